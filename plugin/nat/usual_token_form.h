// The usual form of an OpenAI token logprob object, recognised without the
// general scanner.
//
// OpenAI's and vLLM's serializers write ChatCompletionTokenLogprob as
//   {"token": "...", "bytes": [..] | null, "logprob": <number>,
//    "top_logprobs": [{"token": "...", "bytes": .., "logprob": ..}, ...]}
// with the keys in that order and unescaped. Nearly all of a collection's
// bytes are such objects, so the validation of ChoiceLogprobs first tries to
// match this form with literals (json::fast) and only falls back to the
// general key-by-key check (choice_logprobs.cpp) when it does not match.
#pragma once

namespace nat {

// Levels of nesting the usual form opens below the list that holds it (token
// object, top_logprobs list, top object, its bytes list).
constexpr int kUsualTokenLevels = 4;

// Matches the token object starting at p. `with_top`: a
// ChatCompletionTokenLogprob (top_logprobs required) rather than a
// TopLogprob (no further keys). Returns the position just past the object,
// or nullptr when the bytes are not in the usual form. What it accepts is
// valid JSON and a valid object of that type, so the caller may skip it as
// checked (Scanner::skip_matched); nullptr says nothing about validity.
const char *match_usual_token(const char *p, const char *end, bool with_top);

// Matches a whole list of ChatCompletionTokenLogprob objects in the usual
// form, from its '[' to its ']' (one more level of nesting). nullptr when
// any element is in another form.
const char *match_usual_token_list(const char *p, const char *end);

}  // namespace nat
