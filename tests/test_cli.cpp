// The `backprop` command line, run as a user would: output, exit status
// (0 ok, 2 usage, 1 run-time failure) and the error on stderr.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli_runner.hpp"
#include "temp_file.hpp"

namespace {

using backprop::testing::contains;
using backprop::testing::loss_cells;
using backprop::testing::Outcome;
using backprop::testing::run_cli;
using backprop::testing::slurp;
using backprop::testing::TempFile;

TEST(Cli, TrainPrintsTheTrueArticleTable) {
  const Outcome o = run_cli("train --backend cpu");
  ASSERT_EQ(o.status, 0) << o.err;
  const char* expected =
      "Epoch     0 | Loss: 0.6934\n"
      "Epoch  1000 | Loss: 0.6931\n"
      "Epoch  2000 | Loss: 0.6931\n"
      "Epoch  3000 | Loss: 0.6931\n"
      "Epoch  4000 | Loss: 0.6931\n"
      "Epoch  5000 | Loss: 0.6931\n"
      "Epoch  6000 | Loss: 0.6931\n"
      "Epoch  7000 | Loss: 0.6931\n"
      "Epoch  8000 | Loss: 0.6928\n"
      "Epoch  9000 | Loss: 0.0192\n"
      "Input | Target | Predicted\n"
      "  [0 0]  |   0    |    0\n"
      "  [0 1]  |   1    |    1\n"
      "  [1 0]  |   1    |    1\n"
      "  [1 1]  |   0    |    0\n";
  EXPECT_EQ(o.out, expected);
}

TEST(Cli, LargeDataSetsGetAnAccuracyLine) {
  const Outcome o = run_cli("train --backend cpu --samples 1000 --epochs 10 --log-every 5");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "Epoch     5 | Loss:")) << o.out;
  EXPECT_TRUE(contains(o.out, "Accuracy: ")) << o.out;
  EXPECT_TRUE(contains(o.out, "of 1000 predictions")) << o.out;
}

// The banner on stderr counts in words: one sample, not "1 samples".
TEST(Cli, BannersCountOneInTheSingular) {
  const Outcome train = run_cli("train --backend cpu --samples 1 --epochs 1");
  ASSERT_EQ(train.status, 0) << train.err;
  EXPECT_TRUE(contains(train.err, "backprop: training 2-4-1 on cpu (f32), 1 sample, sgd at lr 1\n")) << train.err;
  const Outcome compare = run_cli("compare --backends cpu --samples 1 --epochs 1");
  ASSERT_EQ(compare.status, 0) << compare.err;
  EXPECT_TRUE(contains(compare.err, "backprop: comparing 2-4-1, 1 sample, 1 epoch, sgd at lr 1, on cpu\n")) << compare.err;
  const Outcome many = run_cli("compare --backends cpu --epochs 3");
  ASSERT_EQ(many.status, 0) << many.err;
  EXPECT_TRUE(contains(many.err, ", 4 samples, 3 epochs, sgd at lr 1, on cpu\n")) << many.err;
}

// A row with many features shows its first ones and its width, not
// thousands of numbers on one line.
TEST(Cli, WideRowsAreElidedInThePredictionTable) {
  std::string row;
  for (int i = 0; i < 20; ++i) row += std::to_string(i) + ",";
  TempFile data(row + "1\n", ".csv");
  const Outcome o = run_cli("train --backend cpu --epochs 1 --data " + data.path());
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "  [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 ... (20 values)]  |   1    |")) << o.out;
  EXPECT_FALSE(contains(o.out, " 15 ")) << o.out;
}

TEST(Cli, LossCsvHoldsEveryEpochAtFullPrecision) {
  TempFile loss("", ".csv");
  const Outcome o = run_cli("train --backend cpu --precision f64 --epochs 3 --loss-csv " + loss.path());
  ASSERT_EQ(o.status, 0) << o.err;
  std::istringstream lines(slurp(loss.path()));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "epoch,loss");
  std::getline(lines, line);
  ASSERT_EQ(line.substr(0, 2), "0,");
  EXPECT_EQ(line.size(), 21u) << line;  // 17 significant digits
  EXPECT_NEAR(std::strtod(line.c_str() + 2, nullptr), 0.69341200967639716, 1e-15);  // NumPy's epoch-0 loss
  int rows = 1;
  while (std::getline(lines, line)) ++rows;
  EXPECT_EQ(rows, 3);
}

// The parameters --params-csv writes are the network after the last update:
// their forward pass over XOR, computed here, gives the loss that a run one
// epoch longer logs at its last epoch (its loss before that update).
TEST(Cli, ParamsCsvHoldsTheTrainedNetwork) {
  TempFile params("", ".csv"), loss("", ".csv");
  const std::string run = "train --backend cpu --precision f64 --log-every 0";
  const Outcome trained = run_cli(run + " --epochs 10000 --params-csv " + params.path());
  const Outcome longer = run_cli(run + " --epochs 10001 --loss-csv " + loss.path());
  ASSERT_EQ(trained.status, 0) << trained.err;
  ASSERT_EQ(longer.status, 0) << longer.err;

  std::map<std::string, std::vector<std::vector<double>>> p;  // name -> [row][column]
  std::istringstream lines(slurp(params.path()));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "parameter,row,column,value");
  int rows = 0;
  while (std::getline(lines, line)) {
    ++rows;
    std::istringstream cells(line);
    std::string name, row, column, value;
    std::getline(cells, name, ',');
    std::getline(cells, row, ',');
    std::getline(cells, column, ',');
    std::getline(cells, value);
    auto& matrix = p[name];
    const std::size_t r = std::stoul(row), c = std::stoul(column);
    if (matrix.size() <= r) matrix.resize(r + 1);
    if (matrix[r].size() <= c) matrix[r].resize(c + 1);
    matrix[r][c] = std::strtod(value.c_str(), nullptr);
  }
  EXPECT_EQ(rows, 2 * 4 + 4 + 4 * 1 + 1);
  ASSERT_EQ(p["W1"].size(), 2u);
  ASSERT_EQ(p["W1"][0].size(), 4u);
  ASSERT_EQ(p["b1"].size(), 1u);
  ASSERT_EQ(p["b1"][0].size(), 4u);
  ASSERT_EQ(p["W2"].size(), 4u);
  ASSERT_EQ(p["W2"][0].size(), 1u);
  ASSERT_EQ(p["b2"].size(), 1u);
  ASSERT_EQ(p["b2"][0].size(), 1u);

  const double x[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}}, y[4] = {0, 1, 1, 0};
  double bce = 0;
  for (int s = 0; s < 4; ++s) {
    double z2 = p["b2"][0][0];
    for (int j = 0; j < 4; ++j) {
      const double z1 = x[s][0] * p["W1"][0][j] + x[s][1] * p["W1"][1][j] + p["b1"][0][j];
      z2 += p["W2"][j][0] / (1 + std::exp(-z1));
    }
    const double probability = 1 / (1 + std::exp(-z2));
    EXPECT_EQ(probability > 0.5, y[s] == 1) << "sample " << s;
    bce -= (y[s] * std::log(probability) + (1 - y[s]) * std::log(1 - probability)) / 4;
  }
  const std::string log = slurp(loss.path());
  const std::size_t last = log.rfind("\n10000,");
  ASSERT_NE(last, std::string::npos) << log.substr(log.size() - 200);
  const double logged = std::strtod(log.c_str() + last + 7, nullptr);
  EXPECT_NEAR(bce, logged, 1e-12 * logged);
  EXPECT_LT(logged, 0.01);  // trained: the article's run ends near 0.0057
}

// The epochs' loss cells of a --loss-csv file, from `first` on, as printed.
// Training 5000 epochs, saving, and training 5000 more from the saved file
// gives the losses of one 10000-epoch run, bit for bit: the file holds the
// float32 network exactly. --params-csv may overwrite the --init-csv file.
TEST(Cli, InitCsvResumesWhereParamsCsvLeftOff) {
  TempFile params("", ".csv"), whole("", ".csv"), second("", ".csv");
  const std::string run = "train --backend cpu --log-every 0 ";
  ASSERT_EQ(run_cli(run + "--epochs 10000 --loss-csv " + whole.path()).status, 0);
  ASSERT_EQ(run_cli(run + "--epochs 5000 --params-csv " + params.path()).status, 0);
  const Outcome resumed =
      run_cli(run + "--epochs 5000 --init-csv " + params.path() + " --params-csv " + params.path() +
              " --loss-csv " + second.path());
  ASSERT_EQ(resumed.status, 0) << resumed.err;
  const auto expected = loss_cells(whole.path(), 5000);
  ASSERT_EQ(expected.size(), 5000u);
  EXPECT_EQ(loss_cells(second.path()), expected);
  EXPECT_TRUE(contains(resumed.out, "  [1 1]  |   0    |    0\n")) << resumed.out;  // trained by now

  // The file now holds the network after all 10000 epochs: one more epoch
  // from it logs the whole run's next loss, which a 10001-epoch run logs.
  TempFile longer("", ".csv"), next("", ".csv");
  ASSERT_EQ(run_cli(run + "--epochs 10001 --loss-csv " + longer.path()).status, 0);
  ASSERT_EQ(run_cli(run + "--epochs 1 --init-csv " + params.path() + " --loss-csv " + next.path()).status, 0);
  EXPECT_EQ(loss_cells(next.path()), loss_cells(longer.path(), 10000));

  const Outcome compared = run_cli("compare --backends cpu --epochs 5 --init-csv " + params.path());
  EXPECT_EQ(compared.status, 0) << compared.err;
  EXPECT_TRUE(contains(compared.err, "comparing 2-4-1")) << compared.err;
}

TEST(Cli, InitCsvTakesTheNetworksOwnStartAndWidth) {
  TempFile params("", ".csv");
  ASSERT_EQ(run_cli("train --backend cpu --epochs 1 --params-csv " + params.path()).status, 0);
  for (const std::string flag : {"--init numpy", "--seed 1", "--hidden 8"}) {
    const Outcome o = run_cli("train --backend cpu --init-csv " + params.path() + " " + flag);
    EXPECT_EQ(o.status, 2) << flag;
    EXPECT_TRUE(contains(o.err, "excludes --init-csv")) << o.err;
  }
  TempFile three_features("1,2,3,1\n0,0,0,0\n");
  const Outcome misfit = run_cli("train --backend cpu --init-csv " + params.path() + " --data " + three_features.path());
  EXPECT_EQ(misfit.status, 1);
  EXPECT_TRUE(contains(misfit.err, params.path() + " holds a 2-4-1 network; the data set has 3 inputs and 1 output"))
      << misfit.err;
  TempFile damaged("parameter,row,column,value\nW1,0,0,1\nW1,0,0,2\n");
  const Outcome bad = run_cli("train --backend cpu --init-csv " + damaged.path());
  EXPECT_EQ(bad.status, 1);
  EXPECT_TRUE(contains(bad.err, damaged.path() + ":3: W1 row 0 column 0 is given twice")) << bad.err;
  EXPECT_EQ(bad.out, "");
}

// The loss evaluate prints is the one training would log next: a network
// saved after 3000 epochs gives the loss a 3001-epoch run logs at its last
// epoch, in both precisions.
TEST(Cli, EvaluateGivesTheLossTheNextEpochWouldLog) {
  for (const std::string precision : {"f32", "f64"}) {
    TempFile params("", ".csv"), longer("", ".csv");
    const std::string run = "train --backend cpu --log-every 0 --precision " + precision;
    ASSERT_EQ(run_cli(run + " --epochs 3000 --params-csv " + params.path()).status, 0);
    ASSERT_EQ(run_cli(run + " --epochs 3001 --loss-csv " + longer.path()).status, 0);
    const Outcome o = run_cli("evaluate --backend cpu --precision " + precision + " --params-csv " + params.path());
    ASSERT_EQ(o.status, 0) << o.err;
    char expected[64];
    std::snprintf(expected, sizeof expected, "Loss: %.9g\n",
                  std::strtod(loss_cells(longer.path(), 3000).at(0).c_str(), nullptr));
    EXPECT_EQ(o.out.substr(0, o.out.find('\n') + 1), expected) << precision;
    EXPECT_TRUE(contains(o.err, "evaluating 2-4-1 from " + params.path() + " on cpu (" + precision + "), 4 samples"))
        << o.err;
  }
}

// evaluate shows a trained network's predictions as train does (the table,
// or the accuracy line), and --predictions-csv holds every probability: its
// classes are the table's, and it reads back as numbers in (0, 1).
TEST(Cli, EvaluateShowsThePredictionsTrainShows) {
  TempFile params("", ".csv"), predictions("", ".csv");
  const Outcome trained = run_cli("train --backend cpu --log-every 0 --params-csv " + params.path());
  ASSERT_EQ(trained.status, 0) << trained.err;
  const Outcome o =
      run_cli("evaluate --backend cpu --params-csv " + params.path() + " --predictions-csv " + predictions.path());
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(o.out.substr(o.out.find('\n') + 1), trained.out);  // after the loss line

  std::istringstream lines(slurp(predictions.path()));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "target,probability");
  const double targets[4] = {0, 1, 1, 0};
  int samples = 0;
  for (; std::getline(lines, line); ++samples) {
    ASSERT_LT(samples, 4) << line;
    char* end = nullptr;
    EXPECT_EQ(std::strtod(line.c_str(), &end), targets[samples]) << line;
    ASSERT_EQ(*end, ',') << line;
    const double probability = std::strtod(end + 1, &end);
    EXPECT_EQ(*end, '\0') << line;
    EXPECT_GT(probability, 0) << line;
    EXPECT_LT(probability, 1) << line;
    EXPECT_EQ(probability > 0.5, targets[samples] == 1) << line;  // the table says 0 1 1 0
  }
  EXPECT_EQ(samples, 4);

  const Outcome large_trained =
      run_cli("train --backend cpu --samples 1000 --epochs 20 --log-every 0 --params-csv " + params.path());
  const Outcome large = run_cli("evaluate --backend cpu --samples 1000 --params-csv " + params.path());
  ASSERT_EQ(large.status, 0) << large.err;
  EXPECT_TRUE(contains(large.out, "Accuracy: ")) << large.out;
  EXPECT_EQ(large.out.substr(large.out.find('\n') + 1), large_trained.out);
}

TEST(Cli, EvaluateRefusesWhatItCannotUse) {
  TempFile params("", ".csv");
  ASSERT_EQ(run_cli("train --backend cpu --epochs 1 --params-csv " + params.path()).status, 0);
  TempFile three_features("1,2,3,1\n0,0,0,0\n");
  const Outcome misfit = run_cli("evaluate --params-csv " + params.path() + " --data " + three_features.path());
  EXPECT_EQ(misfit.status, 1);
  EXPECT_TRUE(contains(misfit.err, params.path() + " holds a 2-4-1 network; the data set has 3 inputs and 1 output"))
      << misfit.err;
  const Outcome missing = run_cli("evaluate --params-csv /nonexistent/net.csv");
  EXPECT_EQ(missing.status, 1);
  EXPECT_TRUE(contains(missing.err, "backprop: error: cannot open parameter file '/nonexistent/net.csv'"))
      << missing.err;
  for (const std::string path : {"/nonexistent/dir/p.csv", "/dev/full"}) {
    const Outcome o = run_cli("evaluate --backend cpu --params-csv " + params.path() + " --predictions-csv " + path);
    EXPECT_EQ(o.status, 1) << path;
    EXPECT_TRUE(contains(o.err, "predictions file '" + path + "'")) << o.err;
  }
  // Weights too large for float32 give no finite loss: an error, not "Loss: nan".
  TempFile huge("parameter,row,column,value\nW1,0,0,1e300\nW1,1,0,1e300\nb1,0,0,0\nW2,0,0,1e300\nb2,0,0,0\n");
  const Outcome overflow = run_cli("evaluate --backend cpu --params-csv " + huge.path());
  EXPECT_EQ(overflow.status, 1) << overflow.out;
  EXPECT_TRUE(contains(overflow.err, "the loss of the network in " + huge.path() + " on this data set is not finite"))
      << overflow.err;
}

// --init xavier changes the start (the flag is not ignored) and, on 16
// hidden units, learns XOR well inside the article's 10000 epochs.
TEST(Cli, XavierStartLearnsXor) {
  const std::string run = "train --backend cpu --hidden 16 --seed 1 --epochs 2000 --log-every 1000";
  const Outcome xavier = run_cli(run + " --init xavier");
  const Outcome numpy = run_cli(run + " --init numpy");
  ASSERT_EQ(xavier.status, 0) << xavier.err;
  ASSERT_EQ(numpy.status, 0) << numpy.err;
  const std::string first_line = xavier.out.substr(0, xavier.out.find('\n'));
  EXPECT_TRUE(contains(first_line, "Epoch     0 | Loss: ")) << xavier.out;
  EXPECT_FALSE(contains(numpy.out, first_line)) << xavier.out << numpy.out;
  EXPECT_TRUE(contains(xavier.out,
                       "  [0 0]  |   0    |    0\n"
                       "  [0 1]  |   1    |    1\n"
                       "  [1 0]  |   1    |    1\n"
                       "  [1 1]  |   0    |    0\n"))
      << xavier.out;
}

TEST(Cli, BackendsListsCpu) {
  const Outcome o = run_cli("backends");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "cpu    usable")) << o.out;
}

TEST(Cli, HelpExitsZero) {
  EXPECT_EQ(run_cli("--help").status, 0);
  const Outcome o = run_cli("train --help");
  EXPECT_EQ(o.status, 0);
  EXPECT_TRUE(contains(o.out, "--loss-csv")) << o.out;
  EXPECT_TRUE(contains(o.out, "--params-csv")) << o.out;
  const Outcome evaluate = run_cli("evaluate --help");
  EXPECT_EQ(evaluate.status, 0);
  EXPECT_TRUE(contains(evaluate.out, "--predictions-csv")) << evaluate.out;
}

struct UsageCase {
  const char* args;
  const char* message;  // part of the error
};

void PrintTo(const UsageCase& c, std::ostream* os) { *os << "backprop " << c.args; }

class CliUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(CliUsage, ExitsTwoWithAnError) {
  const Outcome o = run_cli(GetParam().args);
  EXPECT_EQ(o.status, 2) << GetParam().args << "\n" << o.err;
  EXPECT_TRUE(contains(o.err, "backprop: error: ")) << o.err;
  EXPECT_TRUE(contains(o.err, GetParam().message)) << "'" << GetParam().message << "' not in: " << o.err;
  EXPECT_FALSE(contains(o.out, "Epoch")) << o.out;
}

INSTANTIATE_TEST_SUITE_P(
    BadInput, CliUsage,
    ::testing::Values(UsageCase{"", "subcommand"},
                      UsageCase{"fly", "unknown subcommand 'fly'; use train, compare, evaluate or backends"},
                      UsageCase{"train --bogus", "--bogus"}, UsageCase{"train --backend tpu", "tpu"},
                      UsageCase{"train --hidden", "--hidden"}, UsageCase{"train --hidden abc", "abc"},
                      UsageCase{"train --hidden 0", "--hidden"}, UsageCase{"train --hidden -3", "--hidden"},
                      UsageCase{"train --lr 0", "--lr"}, UsageCase{"train --lr -1", "--lr"},
                      UsageCase{"train --lr nan", "--lr"}, UsageCase{"train --lr inf", "--lr"},
                      UsageCase{"train --epochs 0", "--epochs"},
                      UsageCase{"train --epochs 1000000000000", "--epochs"},
                      UsageCase{"train --epochs 2.5", "--epochs"}, UsageCase{"train --samples 0", "--samples"},
                      UsageCase{"train --precision f16", "f16"}, UsageCase{"train --seed -1", "--seed"},
                      UsageCase{"train --samples 8 --data x.csv", "excludes"},
                      UsageCase{"compare --backends cpu,tpu", "tpu"}, UsageCase{"compare --precisions f16", "f16"},
                      UsageCase{"compare --backend cpu", "--backend"}, UsageCase{"compare --hidden 0", "--hidden"},
                      UsageCase{"evaluate", "--params-csv"},
                      UsageCase{"evaluate --params-csv n.csv --epochs 5", "--epochs"},
                      UsageCase{"evaluate --params-csv n.csv --backend tpu", "tpu"}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

// Output that cannot be written (here: a full device) fails the command,
// for each subcommand, instead of exiting 0 with nothing written.
TEST(Cli, OutputThatCannotBeWrittenExitsOne) {
  TempFile params("", ".csv");
  ASSERT_EQ(run_cli("train --backend cpu --epochs 1 --params-csv " + params.path()).status, 0);
  for (const std::string& args : std::vector<std::string>{
           "train --backend cpu --epochs 20 --log-every 5", "compare --backends cpu --epochs 20",
           "evaluate --backend cpu --params-csv " + params.path(), "backends"}) {
    TempFile err("", ".err");
    const std::string command = std::string(BACKPROP_CLI_COMMAND) + " " + args + " >/dev/full 2>" + err.path();
    const int raw = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(raw)) << args;
    EXPECT_EQ(WEXITSTATUS(raw), 1) << args;
    EXPECT_TRUE(contains(slurp(err.path()), "backprop: error: writing the output failed: No space left on device"))
        << args << ": " << slurp(err.path());
  }
}

TEST(Cli, MissingDataFileExitsOneNamingIt) {
  const Outcome o = run_cli("train --backend cpu --data /nonexistent/d.csv");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "backprop: error: cannot open data file '/nonexistent/d.csv'")) << o.err;
}

TEST(Cli, BadCsvExitsOneWithFileAndLine) {
  TempFile data("x,y,t\n0,0,0\n0,1,2\n");
  const Outcome o = run_cli("train --backend cpu --data " + data.path());
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, data.path() + ":3: target '2' is outside [0, 1]")) << o.err;
}

TEST(Cli, TrainsOnCsvData) {
  TempFile data("a,b,target\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
  const Outcome o = run_cli("train --backend cpu --data " + data.path());
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "Epoch  9000 | Loss: 0.0192")) << o.out;
}

TEST(Cli, UnwritableOutputFilesFailBeforeTraining) {
  for (const auto& [flag, what] : {std::pair{"--loss-csv", "loss file"}, std::pair{"--params-csv", "parameter file"}}) {
    const Outcome o = run_cli(std::string("train --backend cpu ") + flag + " /nonexistent/dir/out.csv");
    EXPECT_EQ(o.status, 1) << flag;
    EXPECT_TRUE(contains(o.err, std::string("cannot write ") + what + " '/nonexistent/dir/out.csv'")) << o.err;
    EXPECT_EQ(o.out, "");  // not one epoch ran
  }
}

// A file that opens but cannot take the lines (a full device) fails the
// run, naming the file, instead of leaving it short.
TEST(Cli, OutputFilesOnAFullDeviceExitOne) {
  for (const auto& [flag, what] : {std::pair{"--loss-csv", "loss file"}, std::pair{"--params-csv", "parameter file"}}) {
    const Outcome o = run_cli(std::string("train --backend cpu --epochs 5 ") + flag + " /dev/full");
    EXPECT_EQ(o.status, 1) << flag;
    EXPECT_TRUE(contains(o.err, std::string("backprop: error: writing ") + what + " '/dev/full' failed")) << o.err;
  }
}

TEST(Cli, DataSetLargerThanMemoryIsRefusedUpFront) {
  // 2^32 samples need about 96 GiB; refused where that is over 80% of memory.
  const double physical = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGE_SIZE));
  if (physical * 0.8 >= 96.0 * (1 << 30)) GTEST_SKIP() << "this machine could hold 2^32 samples";
  const Outcome o = run_cli("train --backend cpu --samples 4294967296 --epochs 1");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "backprop: error: --samples 4294967296 needs about")) << o.err;
}

TEST(Cli, DivergenceExitsOne) {
  const Outcome o = run_cli("train --backend cpu --lr 1e39");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "backprop: error: training diverged at epoch ")) << o.err;
}

TEST(Cli, CudaWithoutAUsableDeviceExitsOne) {
  const Outcome listing = run_cli("backends");
  if (contains(listing.out, "cuda   usable")) GTEST_SKIP() << "a CUDA device is usable here";
  const Outcome o = run_cli("train --backend cuda --epochs 1");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "backprop: error: ")) << o.err;
  EXPECT_TRUE(contains(o.err, "cuda")) << o.err;
}

// The CUDA backend is a module that only its users load: training on the
// CPU must not pay for cuBLAS. The dynamic loader reports every library it
// opens (LD_DEBUG=files), those opened later with dlopen included.
TEST(Cli, TrainingOnTheCpuLoadsNoCudaLibrary) {
  const Outcome o = run_cli("train --backend cpu --epochs 1", "LD_DEBUG=files");
  ASSERT_EQ(o.status, 0) << o.err;
  // libc, which every dynamically linked program loads (a toolchain may link
  // libstdc++ statically, as one GPU machine's did).
  ASSERT_TRUE(contains(o.err, "file=libc.so")) << "the loader reported nothing:\n" << o.err;
  EXPECT_FALSE(contains(o.err, "cublas")) << o.err;
  EXPECT_FALSE(contains(o.err, "libbackprop-cuda")) << o.err;
  EXPECT_FALSE(contains(o.err, "libcuda")) << o.err;  // not even asked whether cuda is usable
}

// A table row of `backprop compare`: run, final loss, and for all but the
// reference the largest loss difference, its epoch and the agreeing predictions.
struct CompareRow {
  std::string run;
  double final_loss = -1, max_difference = -1;
  std::size_t epoch = 0, agree = 0, of = 0;
  bool reference = false;
};

std::vector<CompareRow> compare_rows(const std::string& out) {
  std::vector<CompareRow> rows;
  std::istringstream lines(out);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    CompareRow row;
    char run[32];
    if (std::sscanf(line.c_str(), "%31s %lf %lf %zu %zu of %zu", run, &row.final_loss, &row.max_difference,
                    &row.epoch, &row.agree, &row.of) < 2) {
      continue;
    }
    row.run = run;
    row.reference = contains(line, "reference");
    rows.push_back(row);
  }
  return rows;
}

TEST(Cli, CompareSetsEveryRunBesideTheReference) {
  const Outcome o = run_cli("compare --backends cpu --epochs 2000");
  ASSERT_EQ(o.status, 0) << o.err;
  const auto rows = compare_rows(o.out);
  ASSERT_EQ(rows.size(), 2u) << o.out;
  EXPECT_EQ(rows[0].run, "cpu/f64");
  EXPECT_TRUE(rows[0].reference) << o.out;
  EXPECT_NEAR(rows[0].final_loss, 0.6931, 1e-4) << o.out;  // still on the plateau at epoch 2000
  EXPECT_EQ(rows[1].run, "cpu/f32");
  EXPECT_FALSE(rows[1].reference) << o.out;
  // float32 follows float64 closely off the plateau's end (the golden tests' bound is 1e-5).
  EXPECT_GE(rows[1].max_difference, 0.0) << o.out;
  EXPECT_LT(rows[1].max_difference, 1e-5) << o.out;
  EXPECT_LT(rows[1].epoch, 2000u) << o.out;
  EXPECT_EQ(rows[1].agree, 4u) << o.out;
  EXPECT_EQ(rows[1].of, 4u) << o.out;
}

TEST(Cli, CompareWritesEveryRunsLossesAndTakesTheFirstRunAsReference) {
  TempFile losses("", ".csv");
  const Outcome o = run_cli("compare --backends cpu --precisions f32,f64 --epochs 50 --loss-csv " + losses.path());
  ASSERT_EQ(o.status, 0) << o.err;
  const auto rows = compare_rows(o.out);
  ASSERT_EQ(rows.size(), 2u) << o.out;
  EXPECT_EQ(rows[0].run, "cpu/f32");
  EXPECT_TRUE(rows[0].reference);
  std::istringstream csv(slurp(losses.path()));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "epoch,cpu/f32,cpu/f64");
  std::size_t count = 0;
  while (std::getline(csv, line)) {
    std::size_t epoch = 0;
    double f32 = 0, f64 = 0;
    ASSERT_EQ(std::sscanf(line.c_str(), "%zu,%lf,%lf", &epoch, &f32, &f64), 3) << line;
    EXPECT_EQ(epoch, count++);
    EXPECT_NEAR(f32, f64, 1e-5) << line;
  }
  EXPECT_EQ(count, 50u);
}

// Without --backends, every usable backend runs, the CPU first: cpu/f64 is
// the reference.
TEST(Cli, CompareRunsEveryUsableBackendWithTheCpuFirst) {
  std::istringstream listing(run_cli("backends").out);
  std::size_t usable = 0;
  for (std::string line; std::getline(listing, line);) usable += contains(line, " usable");
  const Outcome o = run_cli("compare --epochs 20");
  ASSERT_EQ(o.status, 0) << o.err;
  const auto rows = compare_rows(o.out);
  ASSERT_EQ(rows.size(), 2 * usable) << o.out;
  EXPECT_EQ(rows[0].run, "cpu/f64");
  EXPECT_TRUE(rows[0].reference) << o.out;
  EXPECT_TRUE(contains(o.err, " on cpu")) << o.err;
}

// A run that fails is named in the error.
TEST(Cli, CompareNamesTheRunThatFailed) {
  const Outcome o = run_cli("compare --backends cpu --precisions f64,f32 --lr 1e39 --epochs 10");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "backprop: error: cpu/f32: training diverged at epoch ")) << o.err;
  EXPECT_EQ(o.out, "");
}

TEST(Cli, CompareOnAnUnusableBackendExitsOne) {
  if (contains(run_cli("backends").out, "cuda   usable")) GTEST_SKIP() << "a CUDA device is usable here";
  const Outcome o = run_cli("compare --backends cpu,cuda --epochs 10");
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "backprop: error: ")) << o.err;
  EXPECT_TRUE(contains(o.err, "cuda")) << o.err;
  EXPECT_EQ(o.out, "");
}

TEST(Cli, AutoTrainsOnTheFirstUsableBackend) {
  const Outcome o = run_cli("train --epochs 1001 --log-every 1000");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "Epoch  1000 | Loss: 0.6931")) << o.out;
}

}  // namespace

namespace {

// The "losses" line of an optimizer's golden file (optimizer_golden.hpp
// reads the rest; this binary links no library).
std::vector<double> golden_losses(const std::string& name) {
  std::istringstream lines(slurp(std::string(BACKPROP_TEST_DATA_DIR) + "/golden/optimizer_" + name + ".txt"));
  std::string line;
  std::vector<double> losses;
  while (std::getline(lines, line)) {
    if (line.rfind("losses ", 0) != 0) continue;
    std::istringstream words(line.substr(7));
    for (double v; words >> v;) losses.push_back(v);
  }
  return losses;
}

std::vector<double> logged_losses(const std::string& path) {
  std::vector<double> losses;
  for (const std::string& cell : loss_cells(path)) losses.push_back(std::strtod(cell.c_str(), nullptr));
  return losses;
}

// The flags give torch.optim's runs: every epoch within the library's f64
// tolerance of PyTorch (test_optimizers.cpp), on XOR and on the breast
// cancer data set as a CSV file.
TEST(CliOptimizers, FlagsFollowTorchOptim) {
  const std::string data = std::string(BACKPROP_TEST_DATA_DIR) + "/breast_cancer.csv";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"xor_adam", "--optimizer adam --lr 0.02 --epochs 400"},
      {"xor_rmsprop_l2", "--optimizer rmsprop --lr 0.02 --weight-decay 1e-4 --epochs 400"},
      {"cancer_nesterov_l2", "--data " + data +
                                 " --hidden 16 --seed 1 --optimizer momentum --nesterov --lr 0.1 "
                                 "--weight-decay 1e-3 --epochs 200"},
      {"cancer_adamw", "--data " + data + " --hidden 16 --seed 1 --optimizer adamw --weight-decay 0.05 --epochs 200"},
      {"cancer_f64_adam", "--data " + std::string(BACKPROP_TEST_DATA_DIR) +
                              "/breast_cancer_f64.csv --hidden 16 --seed 1 --optimizer adam --epochs 100"},
      {"mb_cancer_adam", "--data " + data + " --hidden 16 --seed 1 --optimizer adam --batch-size 64 --shuffle-seed 3 "
                                           "--epochs 40"},
      {"mb_cancer_nesterov_in_order", "--data " + data +
                                          " --hidden 16 --seed 1 --optimizer momentum --nesterov --lr 0.05 "
                                          "--batch-size 100 --no-shuffle --epochs 30"},
  };
  for (const auto& [name, flags] : cases) {
    SCOPED_TRACE(name);
    TempFile loss("", ".csv");
    const Outcome o = run_cli("train --backend cpu --precision f64 " + flags + " --loss-csv " + loss.path());
    ASSERT_EQ(o.status, 0) << o.err;
    const std::vector<double> want = golden_losses(name), got = logged_losses(loss.path());
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t e = 0; e < want.size(); ++e) ASSERT_NEAR(got[e], want[e], 1e-11) << "epoch " << e;
  }
}

// Unset settings take PyTorch's defaults: adam's rate 0.001, adamw's
// weight decay 0.01 (the same run as saying so, not the one without it).
TEST(CliOptimizers, DefaultsAreTorchs) {
  const Outcome adam = run_cli("train --backend cpu --optimizer adam --epochs 2");
  ASSERT_EQ(adam.status, 0) << adam.err;
  EXPECT_TRUE(contains(adam.err, "adam at lr 0.001")) << adam.err;
  auto losses_of = [](const std::string& flags) {
    TempFile loss("", ".csv");
    const Outcome o = run_cli("train --backend cpu --precision f64 --epochs 50 --lr 0.05 " + flags + " --loss-csv " +
                              loss.path());
    EXPECT_EQ(o.status, 0) << o.err;
    return loss_cells(loss.path());
  };
  const auto by_default = losses_of("--optimizer adamw");
  EXPECT_EQ(by_default, losses_of("--optimizer adamw --weight-decay 0.01"));
  EXPECT_NE(by_default, losses_of("--optimizer adamw --weight-decay 0"));
}

// A setting of another optimizer, or out of its range, is a usage error
// (exit 2) that names it, before any work.
TEST(CliOptimizers, MisplacedOrBadSettingsAreUsageErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--optimizer sgd --beta1 0.5", "--beta1 is a setting of adam and adamw, not of sgd"},
      {"--optimizer adam --momentum 0.5", "--momentum is a setting of momentum, not of adam"},
      {"--optimizer rmsprop --nesterov", "--nesterov is a setting of momentum, not of rmsprop"},
      {"--optimizer adam --beta2 1", "beta2 must be at least 0 and below 1, got 1"},
      {"--optimizer momentum --momentum 0 --nesterov", "nesterov needs a momentum above 0"},
      {"--optimizer adam --eps -1", "--eps: must be a finite number at least 0"},
      {"--optimizer adagrad", "--optimizer"},
  };
  for (const auto& [flags, words] : cases) {
    SCOPED_TRACE(flags);
    const Outcome o = run_cli("train --backend cpu --epochs 1 " + flags);
    EXPECT_EQ(o.status, 2);
    EXPECT_TRUE(contains(o.err, words)) << o.err;
    EXPECT_TRUE(o.out.empty()) << o.out;
  }
}

// --params-csv of a stateful optimizer or mini-batches is a checkpoint:
// --init-csv from it goes on with the bits of one longer run, for every
// optimizer, shuffled batches included.
TEST(CliOptimizers, AResumedRunHasTheBitsOfOneRun) {
  const std::string data = std::string(BACKPROP_TEST_DATA_DIR) + "/breast_cancer.csv";
  for (const std::string flags :
       {"--optimizer adam --batch-size 64", "--optimizer adamw --lr 0.01", "--optimizer momentum --nesterov --lr 0.05",
        "--optimizer rmsprop --batch-size 100 --no-shuffle", "--optimizer sgd --lr 0.1 --batch-size 50"}) {
    SCOPED_TRACE(flags);
    const std::string resume = "train --backend cpu --data " + data + " " + flags;
    const std::string run = resume + " --hidden 8 --seed 7";
    TempFile whole("", ".csv"), first("", ".csv"), second("", ".csv"), params("", ".csv"), whole_params("", ".csv");
    ASSERT_EQ(run_cli(run + " --epochs 12 --loss-csv " + whole.path() + " --params-csv " + whole_params.path()).status,
              0);
    ASSERT_EQ(run_cli(run + " --epochs 5 --loss-csv " + first.path() + " --params-csv " + params.path()).status, 0);
    EXPECT_TRUE(contains(slurp(params.path()), "\nepoch,0,0,5\n"));
    const Outcome resumed = run_cli(resume + " --epochs 7 --init-csv " + params.path() + " --params-csv " +
                                    params.path() + " --loss-csv " + second.path());
    ASSERT_EQ(resumed.status, 0) << resumed.err;
    EXPECT_FALSE(contains(resumed.err, "note")) << resumed.err;
    std::vector<std::string> both = loss_cells(first.path());
    for (const std::string& cell : loss_cells(second.path())) both.push_back(cell);
    EXPECT_EQ(both, loss_cells(whole.path()));
    // The second run's checkpoint counts on: 12 epochs.
    std::string text = slurp(params.path());
    EXPECT_EQ(text, slurp(whole_params.path()));
  }
}

// A checkpoint of one optimizer resumed with another: the network is
// taken, the state is not, and a note says so.
TEST(CliOptimizers, AnotherOptimizersStateIsLeftWithANote) {
  TempFile params("", ".csv");
  ASSERT_EQ(run_cli("train --backend cpu --epochs 5 --optimizer adam --params-csv " + params.path()).status, 0);
  const Outcome momentum = run_cli("train --backend cpu --epochs 5 --optimizer momentum --init-csv " + params.path());
  EXPECT_EQ(momentum.status, 0) << momentum.err;
  EXPECT_TRUE(contains(momentum.err, "holds adam's state; momentum starts its own from zero")) << momentum.err;
  TempFile plain("", ".csv");
  ASSERT_EQ(run_cli("train --backend cpu --epochs 5 --params-csv " + plain.path()).status, 0);
  EXPECT_FALSE(contains(slurp(plain.path()), "step")) << "full-batch sgd writes the network alone";
  const Outcome adam = run_cli("train --backend cpu --epochs 5 --optimizer adam --init-csv " + plain.path());
  EXPECT_EQ(adam.status, 0) << adam.err;
  EXPECT_TRUE(contains(adam.err, "holds no adam state; it starts from zero")) << adam.err;
  const Outcome adamw = run_cli("train --backend cpu --epochs 5 --optimizer adamw --init-csv " + params.path());
  EXPECT_FALSE(contains(adamw.err, "note")) << "adam and adamw share their state: " << adamw.err;
}

}  // namespace

namespace {

// --validation-split: the loss file gains the validation columns, filled
// at the log points and after the last epoch; --early-stopping keeps the
// best network, the one a run of that many epochs saves.
TEST(CliValidation, SplitScoresAtLogPointsAndEarlyStoppingKeepsTheBest) {
  const std::string data = std::string(BACKPROP_TEST_DATA_DIR) + "/breast_cancer.csv";
  const std::string run = "train --backend cpu --precision f64 --data " + data +
                          " --hidden 16 --seed 1 --optimizer adam --lr 0.01 --batch-size 64 --log-every 20 ";
  TempFile loss("", ".csv"), best("", ".csv"), again("", ".csv");
  const Outcome o = run_cli(run + "--epochs 300 --validation-split 0.2 --early-stopping 3 --loss-csv " + loss.path() +
                            " --params-csv " + best.path());
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.err, "validating on 114 samples (the end of --data)")) << o.err;
  EXPECT_TRUE(contains(o.out, "Epoch    20 | Loss: ")) << o.out;
  EXPECT_TRUE(contains(o.out, " | Validation: loss ")) << o.out;
  const std::string text = slurp(loss.path());
  EXPECT_EQ(text.substr(0, text.find('\n')), "epoch,loss,validation_loss,validation_accuracy");
  const std::size_t at = o.err.find("keeping the network of epoch ");
  ASSERT_NE(at, std::string::npos) << o.err;
  const long epoch = std::strtol(o.err.c_str() + at + 29, nullptr, 10);
  ASSERT_GT(epoch, 0);
  // The same run to that epoch, on the same 455 samples, saves the same network.
  TempFile head("", ".csv");
  {
    std::istringstream lines(slurp(data));
    std::ofstream out(head.path());
    std::string line;
    for (int i = 0; i <= 455 && std::getline(lines, line); ++i) out << line << '\n';
  }
  const std::string to_best = "train --backend cpu --precision f64 --data " + head.path() +
                              " --hidden 16 --seed 1 --optimizer adam --lr 0.01 --batch-size 64 --epochs " +
                              std::to_string(epoch) + " --params-csv " + again.path();
  ASSERT_EQ(run_cli(to_best).status, 0);
  EXPECT_EQ(slurp(best.path()), slurp(again.path()));
}

// --validation-split F trains on the first floor(N (1 - F)) samples; a
// split that leaves either side empty, and early stopping without
// validation, are usage errors.
TEST(CliValidation, SplitsAsKerasAndRefusesEmptySides) {
  const Outcome one = run_cli("train --backend cpu --epochs 1 --samples 4 --validation-split 0.01");
  ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_TRUE(contains(one.err, "validating on 1 sample (the end of --data)")) << one.err;
  EXPECT_TRUE(contains(one.err, "training 2-4-1 on cpu (f32), 3 samples")) << one.err;
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"--early-stopping 3", "--early-stopping needs --validation-data or --validation-split"},
      {"--samples 4 --validation-split 0.9", "leaves 0 samples to train and 4 samples to validate"},
      {"--samples 4 --validation-split 0", "--validation-split: must be a number above 0 and below 1, got '0'"},
      {"--validation-split nan", "must be a number above 0 and below 1, got 'nan'"},
      {"--validation-split 0.2 --early-stopping 2 --log-every 0", "--early-stopping counts log points"},
      {"--samples 1 --validation-split 0.5", "leaves 0 samples to train and 1 sample to validate"},
      {"--validation-split 1.5", "--validation-split"},
  };
  for (const auto& [flags, words] : refused) {
    SCOPED_TRACE(flags);
    const Outcome o = run_cli("train --backend cpu --epochs 1 " + flags);
    EXPECT_EQ(o.status, 2);
    EXPECT_TRUE(contains(o.err, words)) << o.err;
  }
}

}  // namespace

namespace {

// --validation-data: a file of its own gives the scores of the same
// samples split off the end of --data.
TEST(CliValidation, AFileScoresAsTheSameSamplesSplitOff) {
  const std::string data = std::string(BACKPROP_TEST_DATA_DIR) + "/breast_cancer.csv";
  std::istringstream lines(slurp(data));
  TempFile head("", ".csv"), tail("", ".csv"), split_loss("", ".csv"), file_loss("", ".csv");
  {
    std::ofstream first(head.path()), last(tail.path());
    std::string line;
    for (int i = 0; std::getline(lines, line); ++i) {
      if (i == 0) last << line << '\n';
      (i <= 455 ? first : last) << line << '\n';
    }
  }
  const std::string run = "train --backend cpu --hidden 16 --seed 1 --optimizer adam --epochs 30 --log-every 10 ";
  ASSERT_EQ(run_cli(run + "--data " + data + " --validation-split 0.2 --loss-csv " + split_loss.path()).status, 0);
  const Outcome o = run_cli(run + "--data " + head.path() + " --validation-data " + tail.path() + " --loss-csv " +
                            file_loss.path());
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.err, "validating on 114 samples\n")) << o.err;
  EXPECT_EQ(slurp(split_loss.path()), slurp(file_loss.path()));
}

}  // namespace

namespace {

// --targets K: K sigmoid outputs from the last K columns; a saved network
// of another width is refused; the predictions file has K of each.
TEST(CliTargets, TheLastKColumnsAreTargets) {
  TempFile data("x0,x1,xor,and\n0,0,0,0\n0,1,1,0\n1,0,1,0\n1,1,0,1\n"), params("", ".csv"),
      predictions("", ".csv");
  const Outcome o = run_cli("train --backend cpu --epochs 200 --targets 2 --data " + data.path() + " --params-csv " +
                            params.path());
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.err, "training 2-4-2 on cpu")) << o.err;
  const Outcome wrong = run_cli("train --backend cpu --epochs 1 --data " + data.path() + " --init-csv " + params.path());
  EXPECT_EQ(wrong.status, 1);
  EXPECT_TRUE(contains(wrong.err, "holds a 2-4-2 network; the data set has 3 inputs and 1 output")) << wrong.err;
  const Outcome scored = run_cli("evaluate --backend cpu --targets 2 --data " + data.path() + " --params-csv " +
                                 params.path() + " --predictions-csv " + predictions.path());
  ASSERT_EQ(scored.status, 0) << scored.err;
  const std::string text = slurp(predictions.path());
  EXPECT_EQ(text.substr(0, text.find('\n')), "target0,target1,probability0,probability1");
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 5);
  const Outcome xor_points = run_cli("train --backend cpu --epochs 1 --targets 2");
  EXPECT_EQ(xor_points.status, 2);
  EXPECT_TRUE(contains(xor_points.err, "--targets needs --data")) << xor_points.err;
}

}  // namespace

namespace {

// A checkpoint of a stateful optimizer, resumed with sgd (which keeps no
// state): the network is taken, the arrays left, with a note.
TEST(CliOptimizers, SgdResumesFromAnAdamCheckpoint) {
  TempFile params("", ".csv");
  ASSERT_EQ(run_cli("train --backend cpu --epochs 5 --optimizer adam --params-csv " + params.path()).status, 0);
  const Outcome sgd = run_cli("train --backend cpu --epochs 5 --init-csv " + params.path());
  EXPECT_EQ(sgd.status, 0) << sgd.err;
  EXPECT_TRUE(contains(sgd.err, "holds adam's state; sgd keeps none")) << sgd.err;
}

}  // namespace
