// Damaged copies of a good file, for the CSV readers' tests: one to
// `max_edits` bytes replaced, inserted or deleted at random places, the new
// bytes drawn from an alphabet that reaches the reader's cases.
#pragma once

#include <random>
#include <string>

namespace backprop::testing {

inline std::string randomly_edited(std::string text, const std::string& alphabet, int max_edits, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % static_cast<unsigned>(max_edits));
  for (int e = 0; e < edits; ++e) {
    const std::size_t at = rng() % (text.size() + 1);
    const char c = alphabet[rng() % alphabet.size()];
    switch (rng() % 3) {
      case 0: if (at < text.size()) text[at] = c; break;
      case 1: text.insert(at, 1, c); break;
      default: if (at < text.size()) text.erase(at, 1);
    }
  }
  return text;
}

}  // namespace backprop::testing
