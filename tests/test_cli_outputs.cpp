// What the command line promises about a user's files and input: outputs
// written whole or not at all, paths that would overwrite an input refused,
// SIGINT and SIGTERM stopping at a safe point, checkpoints that resume with
// the same bits, reads that fail by name, one number grammar, and messages
// that quote a bad cell safely.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "temp_file.hpp"

namespace {

using backprop::testing::contains;
using backprop::testing::loss_cells;
using backprop::testing::Outcome;
using backprop::testing::run_cli;
using backprop::testing::slurp;
using backprop::testing::TempDir;
using backprop::testing::TempFile;

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

const std::string kTrain = "train --backend cpu --log-every 0 ";
// Epochs of about a tenth of a millisecond: a run stopped within a second
// has done thousands, not millions (whose loss file would be large).
const std::string kSlowerTrain = kTrain + "--samples 4096 --hidden 64 ";

// ------------------------------------------------------------ atomic outputs

// A run that fails after its outputs were opened (here: it diverges)
// leaves the old files as they were, and no temporary beside them.
TEST(CliOutputs, AFailedRunLeavesTheOldFilesIntact) {
  TempDir dir;
  write_file(dir.file("loss.csv"), "old losses\n");
  write_file(dir.file("net.csv"), "old network\n");
  const Outcome o = run_cli(kTrain + "--lr 1e39 --loss-csv " + dir.file("loss.csv") + " --params-csv " +
                            dir.file("net.csv"));
  EXPECT_EQ(o.status, 1) << o.err;
  EXPECT_TRUE(contains(o.err, "training diverged")) << o.err;
  EXPECT_EQ(slurp(dir.file("loss.csv")), "old losses\n");
  EXPECT_EQ(slurp(dir.file("net.csv")), "old network\n");
  EXPECT_EQ(dir.names(), (std::vector<std::string>{"loss.csv", "net.csv"}));
}

// The README's continuation (--init-csv and --params-csv one file) keeps
// the saved network when the continuing run fails, and replaces it when
// it succeeds.
TEST(CliOutputs, AFailedContinuationKeepsTheSavedNetwork) {
  TempDir dir;
  const std::string net = dir.file("net.csv");
  ASSERT_EQ(run_cli(kTrain + "--epochs 100 --params-csv " + net).status, 0);
  const std::string saved = slurp(net);
  const Outcome failed = run_cli(kTrain + "--epochs 100 --lr 1e39 --init-csv " + net + " --params-csv " + net);
  EXPECT_EQ(failed.status, 1) << failed.err;
  EXPECT_EQ(slurp(net), saved);
  const Outcome succeeded = run_cli(kTrain + "--epochs 100 --init-csv " + net + " --params-csv " + net);
  EXPECT_EQ(succeeded.status, 0) << succeeded.err;
  EXPECT_NE(slurp(net), saved);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"net.csv"});
}

// A new output gets the mode the umask gives; a file it replaces keeps its
// mode; a symbolic link stays a link to the replaced file.
TEST(CliOutputs, ReplacedFilesKeepTheirModeAndLinks) {
  TempDir dir;
  write_file(dir.file("kept.csv"), "x\n");
  ASSERT_EQ(::chmod(dir.file("kept.csv").c_str(), 0640), 0);
  ASSERT_EQ(::symlink("kept.csv", dir.file("link.csv").c_str()), 0);
  const Outcome o = run_cli(kTrain + "--epochs 3 --loss-csv " + dir.file("link.csv") + " --params-csv " +
                            dir.file("new.csv"), "umask 022;");
  ASSERT_EQ(o.status, 0) << o.err;
  struct stat info {};
  ASSERT_EQ(::lstat(dir.file("link.csv").c_str(), &info), 0);
  EXPECT_TRUE(S_ISLNK(info.st_mode));
  ASSERT_EQ(::stat(dir.file("kept.csv").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
  EXPECT_EQ(loss_cells(dir.file("kept.csv")).size(), 3u);
  ASSERT_EQ(::stat(dir.file("new.csv").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
  EXPECT_EQ(dir.names(), (std::vector<std::string>{"kept.csv", "link.csv", "new.csv"}));
}

// A device is written as it is: /dev/null takes any output.
TEST(CliOutputs, DevicesAreWrittenInPlace) {
  const Outcome o = run_cli(kTrain + "--epochs 3 --loss-csv /dev/null --params-csv /dev/null");
  EXPECT_EQ(o.status, 0) << o.err;
}

// ----------------------------------------------------------------- paths

TEST(CliOutputs, TwoOutputsInOneFileAreAUsageError) {
  TempDir dir;
  write_file(dir.file("out.csv"), "mine\n");
  const Outcome same = run_cli(kTrain + "--loss-csv " + dir.file("out.csv") + " --params-csv " + dir.file("out.csv"));
  EXPECT_EQ(same.status, 2);
  EXPECT_TRUE(contains(same.err, "--loss-csv and --params-csv name the same file")) << same.err;
  EXPECT_EQ(same.out, "");  // no work done
  // The same file by another name: through a link, and not yet existing.
  ASSERT_EQ(::symlink("out.csv", dir.file("alias.csv").c_str()), 0);
  EXPECT_EQ(run_cli(kTrain + "--loss-csv " + dir.file("out.csv") + " --params-csv " + dir.file("alias.csv")).status, 2);
  EXPECT_EQ(run_cli(kTrain + "--loss-csv " + dir.file("new.csv") + " --params-csv " + dir.path() + "/./new.csv").status,
            2);
  EXPECT_EQ(slurp(dir.file("out.csv")), "mine\n");
}

TEST(CliOutputs, AnOutputThatIsAnInputIsAUsageError) {
  TempDir dir;
  const std::string data = "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n";
  write_file(dir.file("data.csv"), data);
  ASSERT_EQ(::link(dir.file("data.csv").c_str(), dir.file("hard.csv").c_str()), 0);
  for (const std::string& flag : {"--loss-csv", "--params-csv"}) {
    const Outcome o = run_cli(kTrain + "--data " + dir.file("data.csv") + " " + flag + " " + dir.file("hard.csv"));
    EXPECT_EQ(o.status, 2) << flag;
    EXPECT_TRUE(contains(o.err, "is the file that --data reads")) << o.err;
  }
  ASSERT_EQ(run_cli(kTrain + "--epochs 5 --data " + dir.file("data.csv") + " --params-csv " + dir.file("net.csv")).status, 0);
  const Outcome evaluate = run_cli("evaluate --backend cpu --data " + dir.file("data.csv") + " --params-csv " +
                                   dir.file("net.csv") + " --predictions-csv " + dir.file("net.csv"));
  EXPECT_EQ(evaluate.status, 2);
  EXPECT_TRUE(contains(evaluate.err, "is the file that --params-csv reads")) << evaluate.err;
  const Outcome compare = run_cli("compare --backends cpu --data " + dir.file("data.csv") + " --loss-csv " +
                                  dir.file("data.csv"));
  EXPECT_EQ(compare.status, 2);
  EXPECT_EQ(slurp(dir.file("data.csv")), data);
}

// ---------------------------------------------------------- interruption

// Starts `args` in the background, waits until it trains (its banner on
// stderr) and until `wait_for` exists (if given), then sends it `signals`
// ("INT", or "INT INT"); returns its outcome.
Outcome interrupt_cli(const std::string& args, const std::string& signals, const std::string& wait_for = "",
                      const char* settle_seconds = "0.3") {
  TempFile out("", ".out"), err("", ".err"), status("", ".status");
  const std::string ready = "grep -q 'backprop: training' " + err.path() +
                            (wait_for.empty() ? std::string() : " && test -e " + wait_for);
  TempFile script(std::string(BACKPROP_CLI_COMMAND) + " " + args + " >" + out.path() + " 2>" + err.path() +
                      " </dev/null &\npid=$!\n"
                      "for i in $(seq 1200); do " + ready + " && break; sleep 0.05; done\n"
                      "sleep " + settle_seconds + "\n"
                      "for s in " + signals + "; do kill -$s $pid; done\n"
                      "wait $pid\necho $? >" + status.path() + "\n",
                  ".sh");
  EXPECT_EQ(std::system(("bash " + script.path()).c_str()), 0);
  Outcome o;
  o.status = std::stoi(slurp(status.path()));
  o.out = slurp(out.path());
  o.err = slurp(err.path());
  return o;
}

// SIGINT stops at the next safe point, writes the files for the epochs
// done, says where it stopped and exits 130; SIGTERM the same with 143.
TEST(CliOutputs, SigintAndSigtermStopAtASafePointAndWriteWhatWasDone) {
  for (const auto& [signal, status] : {std::pair{"INT", 130}, std::pair{"TERM", 143}}) {
    TempDir dir;
    const Outcome o = interrupt_cli(kSlowerTrain + "--epochs 100000000 --loss-csv " + dir.file("loss.csv") +
                                        " --params-csv " + dir.file("net.csv"),
                                    signal);
    EXPECT_EQ(o.status, status) << signal << ": " << o.err;
    const auto at = o.err.find("backprop: interrupted at epoch ");
    ASSERT_NE(at, std::string::npos) << o.err;
    const std::size_t epochs = std::stoul(o.err.substr(at + 31));
    EXPECT_GT(epochs, 0u);
    EXPECT_TRUE(contains(o.err, " of 100000000\n")) << o.err;
    EXPECT_EQ(loss_cells(dir.file("loss.csv")).size(), epochs);
    EXPECT_TRUE(contains(slurp(dir.file("net.csv")), "parameter,row,column,value\nW1,0,0,"));
    EXPECT_EQ(dir.names(), (std::vector<std::string>{"loss.csv", "net.csv"}));
  }
}

// A second signal ends the run at once: no temporary is left, and each
// file is either the old one or a whole new one.
TEST(CliOutputs, ASecondSignalEndsAtOnceLeavingNoPartialFile) {
  TempDir dir;
  write_file(dir.file("loss.csv"), "old\n");
  const Outcome o = interrupt_cli(kSlowerTrain + "--epochs 100000000 --loss-csv " + dir.file("loss.csv"), "INT INT");
  EXPECT_EQ(o.status, 130) << o.err;
  const std::string loss = slurp(dir.file("loss.csv"));
  EXPECT_TRUE(loss == "old\n" || (loss.rfind("epoch,loss\n", 0) == 0 && loss.back() == '\n')) << loss.substr(0, 80);
  EXPECT_EQ(dir.names(), std::vector<std::string>{"loss.csv"});
}

// Killed outright after a checkpoint, a run resumes from its files with the
// losses of one uninterrupted run, bit for bit. (A kill in the middle of
// writing a checkpoint can leave a hidden temporary beside the files, never
// a partial file under their names.)
TEST(CliOutputs, AKilledRunResumesFromItsCheckpointWithTheSameBits) {
  TempDir dir;
  const Outcome killed = interrupt_cli(kSlowerTrain + "--epochs 100000000 --checkpoint-every 200 --loss-csv " +
                                           dir.file("loss.csv") + " --params-csv " + dir.file("net.csv"),
                                       "KILL", dir.file("net.csv"), "0.05");
  EXPECT_EQ(killed.status, 137);
  const std::size_t done = loss_cells(dir.file("loss.csv")).size();
  ASSERT_GT(done, 0u) << "no checkpoint before the kill";
  EXPECT_EQ(done % 200, 0u);
  std::vector<std::string> visible;
  for (const std::string& name : dir.names()) {
    if (name.front() != '.') visible.push_back(name);
  }
  EXPECT_EQ(visible, (std::vector<std::string>{"loss.csv", "net.csv"}));
  const std::size_t more = 300;
  ASSERT_EQ(run_cli(kTrain + "--samples 4096 --epochs " + std::to_string(more) + " --init-csv " + dir.file("net.csv") +
                    " --loss-csv " + dir.file("resumed.csv"))
                .status,
            0);
  ASSERT_EQ(run_cli(kSlowerTrain + "--epochs " + std::to_string(done + 200 + more) + " --loss-csv " +
                    dir.file("whole.csv"))
                .status,
            0);
  // The network is written before the losses: a kill between the two
  // leaves it one checkpoint ahead of the loss file.
  const auto resumed = loss_cells(dir.file("resumed.csv"));
  const auto from_done = loss_cells(dir.file("whole.csv"), done), from_next = loss_cells(dir.file("whole.csv"), done + 200);
  EXPECT_TRUE(std::equal(resumed.begin(), resumed.end(), from_done.begin()) ||
              std::equal(resumed.begin(), resumed.end(), from_next.begin()))
      << "the resumed run's losses are the whole run's from neither epoch " << done << " nor " << done + 200;
  EXPECT_EQ(resumed.size(), more);
}

TEST(CliOutputs, CheckpointsNeedAParamsFile) {
  const Outcome o = run_cli(kTrain + "--checkpoint-every 10");
  EXPECT_EQ(o.status, 2);
  EXPECT_TRUE(contains(o.err, "--checkpoint-every requires --params-csv")) << o.err;
}

// ----------------------------------------------------------------- reads

// A read that fails part-way is an error naming the file and the reason,
// not the end of the data.
TEST(CliOutputs, AReadErrorMidFileIsNamed) {
  if (BACKPROP_CLI_EMULATED) GTEST_SKIP() << "LD_PRELOAD would reach the emulator, not the program it runs";
  TempDir dir;
  std::string rows = "a,b,y\n";
  for (int i = 0; i < 200; ++i) rows += "0,1,1\n";
  write_file(dir.file("data.csv"), rows);
  const Outcome o = run_cli(kTrain + "--epochs 2 --data " + dir.file("data.csv"),
                            "ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=" + std::string(BACKPROP_EIO_SHIM) +
                                " BACKPROP_TEST_EIO_PATH=" + dir.file("data.csv") + " BACKPROP_TEST_EIO_AFTER=100");
  EXPECT_EQ(o.status, 1) << o.err;
  EXPECT_TRUE(contains(o.err, "backprop: error: cannot read data file '" + dir.file("data.csv") +
                                  "': Input/output error"))
      << o.err;
}

// Only regular files are read: a FIFO is refused at once (not waited on),
// and so is a device that would never end.
TEST(CliOutputs, OnlyRegularFilesAreRead) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  const Outcome fifo = run_cli(kTrain + "--data " + dir.file("fifo"), "timeout 60");
  EXPECT_EQ(fifo.status, 1) << fifo.err;
  EXPECT_TRUE(contains(fifo.err, "data file '" + dir.file("fifo") + "' is not a regular file (it is a FIFO)"))
      << fifo.err;
  const Outcome zero = run_cli(kTrain + "--data /dev/zero", "timeout 60");
  EXPECT_EQ(zero.status, 1) << zero.err;
  EXPECT_TRUE(contains(zero.err, "'/dev/zero' is not a regular file (it is a character device)")) << zero.err;
  const Outcome init = run_cli(kTrain + "--init-csv /dev/zero", "timeout 60");
  EXPECT_EQ(init.status, 1) << init.err;
  EXPECT_TRUE(contains(init.err, "parameter file '/dev/zero' is not a regular file")) << init.err;
}

// "-" reads the data set from the standard input.
TEST(CliOutputs, DashReadsTheStandardInput) {
  TempFile data("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
  TempFile out("", ".out");
  const std::string command =
      std::string(BACKPROP_CLI_COMMAND) + " " + kTrain + "--data - <" + data.path() + " >" + out.path() + " 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << slurp(out.path());
  EXPECT_TRUE(contains(slurp(out.path()), "  [1 1]  |   0    |    0")) << slurp(out.path());
}

// A byte order mark at the start is skipped; elsewhere, a message shows it.
TEST(CliOutputs, AByteOrderMarkIsSkippedAndShownElsewhere) {
  TempFile data("\xEF\xBB\xBF" "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
  EXPECT_EQ(run_cli(kTrain + "--epochs 3 --data " + data.path()).status, 0);
  TempFile inside("a,b,y\n0,0,0\n0,\xEF\xBB\xBF" "1,1\n");
  const Outcome o = run_cli(kTrain + "--data " + inside.path());
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, inside.path() + ":3: column 2: '\\uFEFF1' is not a number")) << o.err;
}

// A bad cell is quoted cut short, with control characters escaped: a
// megabyte cell does not land on stderr whole, nor a raw CR in a message.
TEST(CliOutputs, BadCellsAreQuotedShortAndEscaped) {
  TempFile huge("a,y\n" + std::string(1 << 20, 'x') + ",1\n");
  const Outcome o = run_cli(kTrain + "--data " + huge.path());
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "column 1: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (1048576 bytes) is not a number"))
      << o.err.substr(0, 300);
  EXPECT_LT(o.err.size(), 1000u);
  TempFile cr("a,y\n1\r2,1\n");
  const Outcome c = run_cli(kTrain + "--data " + cr.path());
  EXPECT_EQ(c.status, 1);
  EXPECT_TRUE(contains(c.err, "column 1: '1\\r2' is not a number")) << c.err;
  EXPECT_FALSE(contains(c.err, "\r"));
}

// One number grammar for the files and the flags (core/csv_text.hpp).
TEST(CliOutputs, NumbersFollowOneGrammar) {
  for (const std::string& good : {"1", "+1", "-0.5", ".5", "5.", "1e3", "1E-3", "2.5e+2"}) {
    TempFile data("a,y\n" + good + ",1\n0,0\n");
    EXPECT_EQ(run_cli(kTrain + "--epochs 1 --data " + data.path()).status, 0) << good;
  }
  for (const std::string& bad : {"+-1", "--1", "1e", "e3", ".", "0x10", "1.2.3", "1 2", "1,5f"}) {
    TempFile data("a,y\n" + bad + ",1\n");
    const Outcome o = run_cli(kTrain + "--epochs 1 --data " + data.path());
    EXPECT_EQ(o.status, 1) << bad;
    EXPECT_TRUE(contains(o.err, "is not a number") || contains(o.err, "expected 2 columns")) << bad << ": " << o.err;
  }
  const Outcome lr = run_cli(kTrain + "--lr +-1");
  EXPECT_EQ(lr.status, 2);
  EXPECT_TRUE(contains(lr.err, "must be a finite number above 0, got '+-1'")) << lr.err;
}

// ------------------------------------------------------------ divergence

// A parameter made infinite by the last update is divergence too, though
// no loss shows it yet.
TEST(CliOutputs, AParameterMadeInfiniteByTheLastUpdateIsDivergence) {
  TempDir dir;
  const Outcome o = run_cli(kTrain + "--epochs 1 --lr 1e308 --params-csv " + dir.file("net.csv"));
  EXPECT_EQ(o.status, 1);
  EXPECT_TRUE(contains(o.err, "training diverged at epoch 0 (a parameter is not finite after its update)")) << o.err;
  EXPECT_TRUE(dir.names().empty());
}

// Losses far from 1 print in exponent form, and a loss that climbs far
// above the first is warned of.
TEST(CliOutputs, RisingLossesAreReadableAndWarnedOf) {
  const Outcome o = run_cli("train --backend cpu --epochs 4 --log-every 1 --lr 1e3");
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_TRUE(contains(o.out, "Epoch     0 | Loss: 0.6934\n")) << o.out;
  EXPECT_TRUE(contains(o.err, "backprop: warning: the loss rose to ")) << o.err;
  EXPECT_TRUE(contains(o.err, "the learning rate (--lr 1000) may be too large")) << o.err;
  const Outcome quiet = run_cli("train --backend cpu --epochs 4");
  EXPECT_FALSE(contains(quiet.err, "warning")) << quiet.err;
}

// ------------------------------------------------------------- messages

TEST(CliOutputs, FlagValuesAreCheckedForWhatIsWrong) {
  const Outcome epochs = run_cli(kTrain + "--epochs 1e3");
  EXPECT_EQ(epochs.status, 2);
  EXPECT_TRUE(contains(epochs.err, "must be a whole number, got '1e3'")) << epochs.err;
  for (const std::string& flag : {"--data", "--init-csv", "--loss-csv", "--params-csv"}) {
    const Outcome empty = run_cli(kTrain + flag + " ''");
    EXPECT_EQ(empty.status, 2) << flag;
    EXPECT_TRUE(contains(empty.err, "the path is empty")) << flag << ": " << empty.err;
  }
  const Outcome threads = run_cli(kTrain + "--epochs 2 --threads 1000");
  EXPECT_EQ(threads.status, 0) << threads.err;
  EXPECT_TRUE(contains(threads.err, "backprop: note: --threads 1000 is more than this machine's")) << threads.err;
}

// Help that cannot be written is a failure too.
TEST(CliOutputs, HelpToAFullDeviceExitsOne) {
  TempFile err("", ".err");
  const std::string command = std::string(BACKPROP_CLI_COMMAND) + " --help >/dev/full 2>" + err.path();
  const int raw = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(raw));
  EXPECT_EQ(WEXITSTATUS(raw), 1);
  EXPECT_TRUE(contains(slurp(err.path()), "No space left on device")) << slurp(err.path());
}

}  // namespace
