// CSV data sets: what loads, and every malformed file failing with its file
// and line in the message.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "backprop/backprop.hpp"
#include "csv_error_format.hpp"
#include "random_edits.hpp"
#include "temp_file.hpp"

namespace backprop {
namespace {

using testing::TempFile;

// Loading `contents` must throw an Error whose message contains each of `parts`.
void expect_csv_error(const std::string& contents, std::initializer_list<std::string> parts, std::size_t targets = 1) {
  TempFile file(contents);
  try {
    Dataset::from_csv(file.path(), targets);
    ADD_FAILURE() << "no error for:\n" << contents;
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' missing from: " << message;
    }
    EXPECT_NE(message.find(file.path()), std::string::npos) << "file not named in: " << message;
  }
}

TEST(Csv, LoadsFeaturesAndTargetsWithOptionalHeader) {
  TempFile file("x1,x2,y\n0,0,0\n0, 1 ,1\r\n1,0,1\n\n1,1,0.25\n");
  const Dataset d = Dataset::from_csv(file.path());
  EXPECT_EQ(d.inputs, 2u);
  EXPECT_EQ(d.outputs, 1u);
  EXPECT_EQ(d.samples(), 4u);
  EXPECT_EQ(d.features, (std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1}));
  EXPECT_EQ(d.targets, (std::vector<float>{0, 1, 1, 0.25f}));
}

TEST(Csv, LoadsWithoutHeaderAndWithExponents) {
  TempFile file("-1.5e2,+3,1\n2.5E-1,7,0\n");
  const Dataset d = Dataset::from_csv(file.path());
  EXPECT_EQ(d.features, (std::vector<float>{-150.0f, 3.0f, 0.25f, 7.0f}));
  EXPECT_EQ(d.targets, (std::vector<float>{1, 0}));
}

TEST(Csv, MissingFileIsNamed) {
  try {
    Dataset::from_csv("/nonexistent/backprop/data.csv");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/backprop/data.csv"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
}

TEST(Csv, DirectoryIsRejected) {
  EXPECT_THROW(Dataset::from_csv(std::filesystem::temp_directory_path().string()), Error);
}

TEST(Csv, EmptyFile) { expect_csv_error("", {"empty"}); }
TEST(Csv, HeaderOnly) { expect_csv_error("a,b,y\n", {"no data rows"}); }
TEST(Csv, BlankLinesOnly) { expect_csv_error("\n \n\n", {"no data rows"}); }
TEST(Csv, BinaryData) { expect_csv_error(std::string("0,1,1\n1,\x00\x01,0\n", 11), {":2:", "binary"}); }
TEST(Csv, WrongColumnCount) { expect_csv_error("0,0,0\n0,1\n", {":2:", "expected 3 columns", "found 2"}); }
TEST(Csv, ExtraColumn) { expect_csv_error("a,b,y\n0,0,0\n0,1,1,1\n", {":3:", "found 4"}); }
TEST(Csv, SingleColumn) { expect_csv_error("1\n0\n", {":1:", "at least one feature"}); }
TEST(Csv, NonNumericCell) { expect_csv_error("0,0,0\n0,abc,1\n", {":2:", "column 2", "'abc' is not a number"}); }
TEST(Csv, TrailingGarbage) { expect_csv_error("0,0,0\n0,1x,1\n", {":2:", "'1x'"}); }
TEST(Csv, EmptyCell) { expect_csv_error("0,0,0\n0,,1\n", {":2:", "column 2", "empty"}); }
TEST(Csv, NanCell) { expect_csv_error("0,0,0\n1,nan,1\n", {":2:", "NaN"}); }
TEST(Csv, InfCell) { expect_csv_error("0,0,0\n1,inf,1\n", {":2:", "infinite"}); }
TEST(Csv, TooLargeForFloat) { expect_csv_error("0,0,0\n1,1e39,1\n", {":2:", "too large"}); }
TEST(Csv, HugeExponent) { expect_csv_error("0,0,0\n1,1e999,1\n", {":2:", "too large"}); }
TEST(Csv, TargetAboveOne) { expect_csv_error("0,0,0\n0,1,1.5\n", {":2:", "target '1.5'", "[0, 1]"}); }
TEST(Csv, TargetBelowZero) { expect_csv_error("x,y,t\n0,0,0\n0,1,1\n1,1,-0.1\n", {":4:", "target '-0.1'"}); }
TEST(Csv, MixedHeaderIsAnError) { expect_csv_error("x,1,y\n0,0,0\n", {":1:", "'x' is not a number"}); }

// --targets K: the last K columns are targets, one output each.
TEST(Csv, SeveralTargetColumns) {
  TempFile file("a,b,c,y0,y1\n1,2,3,0,1\n4,5,6,1,0.25\n");
  const Dataset d = Dataset::from_csv(file.path(), 2);
  EXPECT_EQ(d.inputs, 3u);
  EXPECT_EQ(d.outputs, 2u);
  EXPECT_EQ(d.features, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(d.targets, (std::vector<float>{0, 1, 1, 0.25f}));
  const Dataset one = Dataset::from_csv(file.path());
  EXPECT_EQ(one.inputs, 4u);
}
TEST(Csv, TargetColumnsNeedAFeatureBesides) {
  expect_csv_error("0,1\n", {":1:", "found 2 columns; need at least one feature column and 2 target columns"}, 2);
}
TEST(Csv, EveryTargetColumnIsInRange) {
  expect_csv_error("0,2,1\n", {":1:", "target '2' is outside [0, 1]"}, 2);
}
TEST(Csv, WrongColumnCountNamesTheTargets) {
  expect_csv_error("0,0,0,1\n0,1,1\n", {":2:", "expected 4 columns (2 features and 2 targets), found 3"}, 2);
}
TEST(Csv, ZeroTargetColumnsIsAUsageError) {
  TempFile file("0,1\n");
  try {
    Dataset::from_csv(file.path(), 0);
    ADD_FAILURE() << "0 targets accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
  }
}

TEST(Dataset, XorRepeatsTheFourPoints) {
  const Dataset d = Dataset::xor_points(6);
  EXPECT_EQ(d.features, (std::vector<float>{0, 0, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1}));
  EXPECT_EQ(d.targets, (std::vector<float>{0, 1, 1, 0, 0, 1}));
  EXPECT_THROW(Dataset::xor_points(0), Error);
}

TEST(Dataset, ValidateRejectsInconsistentArrays) {
  Dataset d = Dataset::xor_points(4);
  d.targets.pop_back();
  EXPECT_THROW(validate(d), Error);
  d = Dataset::xor_points(4);
  d.features[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(validate(d), Error);
  d = Dataset::xor_points(4);
  d.targets[1] = 2.0f;
  EXPECT_THROW(validate(d), Error);
  EXPECT_THROW(validate(Dataset{}), Error);
}

// Beyond double's range a cell is too large (refused) or too small (zero, as
// strtod reads it), whichever way the number is written.
TEST(Csv, NumbersPastDoublesRangeAreJudgedByTheirSize) {
  const std::string zeros(400, '0');
  TempFile file("1e-400,-1e-400,0\n0." + zeros + "1,1e-99999999999999999999999,1\n1000e-330,2,0\n");
  const Dataset d = Dataset::from_csv(file.path());
  EXPECT_EQ(d.features, (std::vector<float>{0, 0, 0, 0, 0, 2}));
  EXPECT_TRUE(std::signbit(d.features[1]));
  const std::vector<std::string> too_large = {"1e400", "-1e400", "1" + zeros, "0.001e312", "1e99999999999999999999999"};
  for (const auto& big : too_large) {
    expect_csv_error("0,0,0\n1," + big + ",1\n", {":2:", "too large"});
  }
}

// Damaged files, made by random edits of a good one (bytes replaced,
// inserted and deleted from an alphabet of digits, signs, separators,
// letters and binary): each loads as a valid data set or fails with
// backprop::Error naming the file and a line, never anything else.
TEST(Csv, DamagedFilesLoadValidOrFailNamingTheLine) {
  const std::string good = "x1,x2,y\n0,0,0\n0.5,-1e3,1\n1,0,0.25\n2.5E-1,7,1\n";
  const std::string alphabet = std::string("0123456789.,-+eE \t\r\nnaifxyz") + '\0' + '\x7f' + '\xff';
  std::mt19937 rng(11);
  int loaded = 0, refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const std::string text = testing::randomly_edited(good, alphabet, 4, rng);
    TempFile file(text);
    try {
      const Dataset d = Dataset::from_csv(file.path());
      EXPECT_NO_THROW(validate(d)) << text;
      ++loaded;
    } catch (const Error& e) {
      EXPECT_TRUE(testing::names_file_and_line(e.what(), file.path())) << e.what();
      ++refused;
    }
  }
  RecordProperty("loaded", loaded);
  RecordProperty("refused", refused);
  // Both outcomes occur: the edits neither always break the file nor never.
  EXPECT_GT(loaded, 100);
  EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace backprop
