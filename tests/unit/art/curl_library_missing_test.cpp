// A libcurl that cannot be loaded: built with NAT_ART_LIBCURL_SONAME set to a
// library that does not exist, http/curl_library.cpp must fail every request
// with an error naming the library and dlopen's reason, and never crash.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "adapter/art_trainer_adapter.h"
#include "base/error.h"
#include "config/adapter_config.h"
#include "http/curl_library.h"
#include "http/http_client.h"

namespace {

const std::string kNotLoaded = std::string(NAT_ART_LIBCURL_SONAME) + " could not be loaded: ";

TEST(MissingLibcurl, LoadReportsDlopensReason) {
  std::string why;
  EXPECT_FALSE(nat::http::load_libcurl(&why));
  EXPECT_FALSE(nat::http::libcurl_loaded());
  EXPECT_EQ(why.rfind(kNotLoaded, 0), 0u) << why;
#ifdef _WIN32
  // The same names beside the program, then in the DLL search path.
  EXPECT_NE(why.find("none of libcurl-x64.dll, libcurl.dll, libcurl-4.dll"), std::string::npos) << why;
#else
  EXPECT_NE(why.find("cannot open shared object file"), std::string::npos) << why;
#endif
}

TEST(MissingLibcurl, CurlFunctionsFailCleanly) {
  EXPECT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);  // deferred
  CURL *handle = curl_easy_init();
  ASSERT_NE(handle, nullptr);
  char error_buffer[CURL_ERROR_SIZE] = "untouched";
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_URL, "http://127.0.0.1:1/"), CURLE_OK);
  EXPECT_EQ(curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(3)), CURLE_OK);
  EXPECT_EQ(curl_slist_append(nullptr, "Expect:"), nullptr);
  curl_slist_free_all(nullptr);
  EXPECT_EQ(curl_easy_perform(handle), CURLE_FAILED_INIT);
  EXPECT_EQ(std::string(error_buffer).rfind(kNotLoaded, 0), 0u) << error_buffer;
  long status = 42;
  EXPECT_EQ(curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status), CURLE_FAILED_INIT);
  EXPECT_EQ(status, 0);
  char *url = reinterpret_cast<char *>(handle);
  EXPECT_EQ(curl_easy_getinfo(handle, CURLINFO_EFFECTIVE_URL, &url), CURLE_FAILED_INIT);
  EXPECT_EQ(url, nullptr);
  curl_easy_cleanup(handle);
  EXPECT_EQ(std::string(curl_easy_strerror(CURLE_FAILED_INIT)).rfind(kNotLoaded, 0), 0u);
}

TEST(MissingLibcurl, HttpClientErrorsNameTheLibrary) {
  nat::http::HttpClient client(nat::http::TlsOptions{});
  nat::http::RequestOptions options;
  try {
    client.get("http://127.0.0.1:1/healthcheck", options);
    ADD_FAILURE() << "no error";
  } catch (const nat::http::TransportError &e) {
    EXPECT_EQ(e.curl_code(), CURLE_FAILED_INIT);
    EXPECT_EQ(std::string(e.what()).rfind(kNotLoaded, 0), 0u) << e.what();
  }

  struct EmptyBody : nat::http::BodyReader {
    size_t read(char *, size_t) override { return 0; }
  } body;
  nat::http::StreamResult r = client.post_streaming(
      "http://127.0.0.1:1/_train_model", body, [](std::string_view) {}, nat::http::StreamOptions{});
  EXPECT_EQ(r.curl_code, CURLE_FAILED_INIT);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.curl_error.rfind(kNotLoaded, 0), 0u) << r.curl_error;
}

TEST(MissingLibcurl, AdapterCreatesAndInitializeIsUnavailable) {
  const std::string config =
      R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"127.0.0.1","port":1},)"
      R"("native":{"retries":0,"retry_backoff_s":0}})";
  nat::ArtTrainerAdapter adapter(nat::parse_adapter_config(config, nat::ArtTrainerAdapter::kType));
  EXPECT_FALSE(adapter.is_healthy());
  try {
    adapter.initialize("{}");
    ADD_FAILURE() << "initialize succeeded without libcurl";
  } catch (const nat::Error &e) {
    EXPECT_EQ(e.code(), nat::ErrorCode::Unavailable);
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("Failed to connect to ART backend.", 0), 0u) << message;
    EXPECT_NE(message.find(kNotLoaded), std::string::npos) << message;
  }
}

TEST(MissingLibcurl, InitializeDoesNotRetryWhatNoRetryCanCure) {
  // With retries and a 30 s first backoff, one retry alone would take 30 s:
  // a missing libcurl must fail at the first attempt.
  const std::string config =
      R"({"_type":"openpipe_art_trainer_adapter","backend":{"ip":"127.0.0.1","port":1},)"
      R"("native":{"retries":3,"retry_backoff_s":30}})";
  nat::ArtTrainerAdapter adapter(nat::parse_adapter_config(config, nat::ArtTrainerAdapter::kType));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(adapter.initialize("{}"), nat::Error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

}  // namespace
