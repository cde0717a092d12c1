/*
 * minimal_adapter.c - a complete NAT trainer adapter plugin in plain C99.
 *
 * A template for writing your own adapter against nat/trainer_adapter.h
 * alone. It implements every function of ABI 1.0, and says so: it reports
 * ABI 1.0, so loaders do not expect the 1.1 functions (resubmit, spooled).
 * A plugin reporting 1.1 must export those too. Its in-memory "backend"
 * trains nothing: each submitted job completes at once, after one
 * (empty) gradient step. Replace submit() with your backend call and keep
 * the rest: the error and buffer objects, the live-object checks, the
 * locking and the tiny JSON reader.
 *
 * Build (nothing to link but the C library and pthreads):
 *
 *   cc -std=c99 -shared -fPIC $(pkg-config --cflags nat-trainer-adapter) \
 *      minimal_adapter.c -o libnat_trainer_adapter_minimal.so -pthread
 *
 * then install it into $(pkg-config --variable=plugindir nat-trainer-adapter)
 * or run `nat-trainer --plugin-dir DIR list`.
 *
 * Design notes for adapter authors:
 * - Export only the nat_trainer_adapter_* functions (everything else is
 *   static here; a real C++ plugin uses -fvisibility=hidden).
 * - One mutex guards the whole plugin. No call here blocks, so that is
 *   enough for the ABI's rule that every function is thread-safe. A real
 *   adapter runs its jobs on its own threads and waits on condition
 *   variables in wait_until_complete() and next_event().
 * - Errors, buffers and adapters are kept in a list of live objects, so a
 *   double free or a foreign pointer is ignored, and a destroyed adapter
 *   gives FAILED_PRECONDITION, as the header promises.
 * - JSON is only scanned, never unescaped: values such as run_id are copied
 *   as raw JSON tokens and written back as they came.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <nat/trainer_adapter.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef _WIN32
#include <direct.h>
#endif

#define MINIMAL_NAME "minimal_trainer_adapter"
#define MINIMAL_BACKEND "minimal"
#define MINIMAL_VERSION "1.0.0"
#define MINIMAL_DEFAULT_LOG_DIR "./.tmp/nat/finetuning/trainer_adapter"

/* ------------------------------------------------------------------------ */
/* Plugin info                                                               */
/* ------------------------------------------------------------------------ */

/* The ABI this adapter implements: 1.0 (see the top of this file). */
#define MINIMAL_ABI_MINOR 0
#define MINIMAL_ABI_TEXT NAT_TRAINER_ADAPTER_ABI_TEXT(NAT_TRAINER_ADAPTER_ABI_MAJOR, MINIMAL_ABI_MINOR)

static const char plugin_info[] =
    "{\"name\":\"" MINIMAL_NAME "\",\"backend\":\"" MINIMAL_BACKEND "\",\"version\":\"" MINIMAL_VERSION
    "\","
    "\"abi\":\"" MINIMAL_ABI_TEXT
    "\",\"description\":\"In-memory example adapter: every job completes at once; trains nothing.\","
    "\"config_schema\":{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
    "\"properties\":{\"_type\":{\"const\":\"" MINIMAL_NAME "\"}},\"required\":[\"_type\"]}}";

NAT_TRAINER_ADAPTER_API uint32_t nat_trainer_adapter_abi_version(void) {
  return ((uint32_t)NAT_TRAINER_ADAPTER_ABI_MAJOR << 16) | MINIMAL_ABI_MINOR;
}

NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_plugin_info(void) { return plugin_info; }

/* ------------------------------------------------------------------------ */
/* Live objects                                                              */
/* ------------------------------------------------------------------------ */

enum object_kind { KIND_ERROR = 0x45525231, KIND_BUFFER = 0x42554631, KIND_ADAPTER = 0x41445031 };

struct live_object {
  enum object_kind kind;
  struct live_object *next;
};

static pthread_mutex_t plugin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct live_object *live_objects = NULL; /* guarded by plugin_lock */

static void track(struct live_object *object, enum object_kind kind) {
  object->kind = kind;
  object->next = live_objects;
  live_objects = object;
}

/* Removes `object` from the live list; 0 if it was not a live object of `kind`. */
static int untrack(const void *object, enum object_kind kind) {
  struct live_object **link = &live_objects;
  while (*link != NULL) {
    if ((const void *)*link == object) {
      if ((*link)->kind != kind) return 0;
      *link = (*link)->next;
      return 1;
    }
    link = &(*link)->next;
  }
  return 0;
}

static int is_live(const void *object, enum object_kind kind) {
  const struct live_object *it;
  for (it = live_objects; it != NULL; it = it->next) {
    if ((const void *)it == object) return it->kind == kind;
  }
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Growing text                                                              */
/* ------------------------------------------------------------------------ */

struct text {
  char *data;
  size_t size, capacity;
  int out_of_memory;
};

static void text_add_n(struct text *t, const char *s, size_t n) {
  if (t->out_of_memory) return;
  if (t->size + n + 1 > t->capacity) {
    size_t capacity = t->capacity ? t->capacity : 64;
    char *grown;
    while (capacity < t->size + n + 1) capacity *= 2;
    grown = (char *)realloc(t->data, capacity);
    if (grown == NULL) {
      t->out_of_memory = 1;
      return;
    }
    t->data = grown;
    t->capacity = capacity;
  }
  memcpy(t->data + t->size, s, n);
  t->size += n;
  t->data[t->size] = '\0';
}

static void text_add(struct text *t, const char *s) { text_add_n(t, s, strlen(s)); }

static void text_add_number(struct text *t, unsigned long value) {
  char digits[32];
  snprintf(digits, sizeof digits, "%lu", value);
  text_add(t, digits);
}

/* ------------------------------------------------------------------------ */
/* Errors and buffers                                                        */
/* ------------------------------------------------------------------------ */

struct nat_trainer_adapter_error {
  struct live_object live;
  int32_t code;
  char *message;
};

struct nat_trainer_adapter_buffer {
  struct live_object live;
  size_t size;
  char data[1]; /* size bytes and a NUL */
};

/* Returned when even an error cannot be allocated; not live, so freeing it is a no-op. */
static struct nat_trainer_adapter_error out_of_memory_error = {
    {KIND_ERROR, NULL}, NAT_TRAINER_ADAPTER_INTERNAL, (char *)"out of memory"};

/* Callers hold plugin_lock. */
static nat_trainer_adapter_error *make_error(int32_t code, const char *message) {
  nat_trainer_adapter_error *error = (nat_trainer_adapter_error *)malloc(sizeof *error);
  size_t length = strlen(message);
  if (error == NULL) return &out_of_memory_error;
  error->message = (char *)malloc(length + 1);
  if (error->message == NULL) {
    free(error);
    return &out_of_memory_error;
  }
  memcpy(error->message, message, length + 1);
  error->code = code;
  track(&error->live, KIND_ERROR);
  return error;
}

/* An error whose message was built in `t` (which is released). */
static nat_trainer_adapter_error *make_error_from(int32_t code, struct text *t) {
  nat_trainer_adapter_error *error =
      t->out_of_memory || t->data == NULL ? &out_of_memory_error : make_error(code, t->data);
  free(t->data);
  return error;
}

/* Moves `t` into a new buffer in *out. Callers hold plugin_lock. */
static nat_trainer_adapter_error *make_buffer(struct text *t, nat_trainer_adapter_buffer **out) {
  nat_trainer_adapter_buffer *buffer;
  if (t->out_of_memory) {
    free(t->data);
    return &out_of_memory_error;
  }
  buffer = (nat_trainer_adapter_buffer *)malloc(sizeof *buffer + t->size);
  if (buffer == NULL) {
    free(t->data);
    return &out_of_memory_error;
  }
  buffer->size = t->size;
  if (t->size > 0) memcpy(buffer->data, t->data, t->size);
  buffer->data[t->size] = '\0';
  free(t->data);
  track(&buffer->live, KIND_BUFFER);
  *out = buffer;
  return NULL;
}

NAT_TRAINER_ADAPTER_API int32_t nat_trainer_adapter_error_code(const nat_trainer_adapter_error *error) {
  return error == NULL ? NAT_TRAINER_ADAPTER_OK : error->code;
}

NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_error_message(
    const nat_trainer_adapter_error *error) {
  return error == NULL ? "" : error->message;
}

NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_error_free(nat_trainer_adapter_error *error) {
  int was_live;
  pthread_mutex_lock(&plugin_lock);
  was_live = untrack(error, KIND_ERROR);
  pthread_mutex_unlock(&plugin_lock);
  if (was_live) {
    free(error->message);
    free(error);
  }
}

NAT_TRAINER_ADAPTER_API const char *nat_trainer_adapter_buffer_data(
    const nat_trainer_adapter_buffer *buffer) {
  return buffer == NULL ? "" : buffer->data;
}

NAT_TRAINER_ADAPTER_API size_t nat_trainer_adapter_buffer_size(const nat_trainer_adapter_buffer *buffer) {
  return buffer == NULL ? 0 : buffer->size;
}

NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_buffer_free(nat_trainer_adapter_buffer *buffer) {
  int was_live;
  pthread_mutex_lock(&plugin_lock);
  was_live = untrack(buffer, KIND_BUFFER);
  pthread_mutex_unlock(&plugin_lock);
  if (was_live) free(buffer);
}

/* ------------------------------------------------------------------------ */
/* A JSON scanner: checks syntax and finds members, never unescapes          */
/* ------------------------------------------------------------------------ */

struct json_span {
  const char *start;
  size_t length;
};

struct json_cursor {
  const char *at, *end;
};

#define JSON_MAX_DEPTH 128

static void skip_space(struct json_cursor *c) {
  while (c->at < c->end && (*c->at == ' ' || *c->at == '\t' || *c->at == '\n' || *c->at == '\r')) ++c->at;
}

static int skip_value(struct json_cursor *c, int depth);

static int skip_string(struct json_cursor *c) {
  if (c->at >= c->end || *c->at != '"') return 0;
  for (++c->at; c->at < c->end; ++c->at) {
    unsigned char ch = (unsigned char)*c->at;
    if (ch == '"') {
      ++c->at;
      return 1;
    }
    if (ch < 0x20) return 0;
    if (ch == '\\') {
      if (++c->at >= c->end) return 0;
      if (*c->at == 'u') {
        int i;
        for (i = 0; i < 4; ++i) {
          char h;
          if (++c->at >= c->end) return 0;
          h = *c->at;
          if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) return 0;
        }
      } else if (strchr("\"\\/bfnrt", *c->at) == NULL) {
        return 0;
      }
    }
  }
  return 0;
}

static int skip_digits(struct json_cursor *c) {
  const char *start = c->at;
  while (c->at < c->end && *c->at >= '0' && *c->at <= '9') ++c->at;
  return c->at > start;
}

static int skip_number(struct json_cursor *c) {
  if (c->at < c->end && *c->at == '-') ++c->at;
  if (c->at < c->end && *c->at == '0') {
    ++c->at;
  } else if (!skip_digits(c)) {
    return 0;
  }
  if (c->at < c->end && *c->at == '.') {
    ++c->at;
    if (!skip_digits(c)) return 0;
  }
  if (c->at < c->end && (*c->at == 'e' || *c->at == 'E')) {
    ++c->at;
    if (c->at < c->end && (*c->at == '+' || *c->at == '-')) ++c->at;
    if (!skip_digits(c)) return 0;
  }
  return 1;
}

static int skip_word(struct json_cursor *c, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(c->end - c->at) < n || memcmp(c->at, word, n) != 0) return 0;
  c->at += n;
  return 1;
}

static int skip_container(struct json_cursor *c, int depth, char close, int members) {
  if (depth > JSON_MAX_DEPTH) return 0;
  ++c->at; /* the opening bracket */
  skip_space(c);
  if (c->at < c->end && *c->at == close) {
    ++c->at;
    return 1;
  }
  for (;;) {
    skip_space(c);
    if (members) {
      if (!skip_string(c)) return 0;
      skip_space(c);
      if (c->at >= c->end || *c->at != ':') return 0;
      ++c->at;
    }
    if (!skip_value(c, depth + 1)) return 0;
    skip_space(c);
    if (c->at >= c->end) return 0;
    if (*c->at == close) {
      ++c->at;
      return 1;
    }
    if (*c->at != ',') return 0;
    ++c->at;
  }
}

static int skip_value(struct json_cursor *c, int depth) {
  skip_space(c);
  if (c->at >= c->end) return 0;
  switch (*c->at) {
    case '{':
      return skip_container(c, depth, '}', 1);
    case '[':
      return skip_container(c, depth, ']', 0);
    case '"':
      return skip_string(c);
    case 't':
      return skip_word(c, "true");
    case 'f':
      return skip_word(c, "false");
    case 'n':
      return skip_word(c, "null");
    default:
      return skip_number(c);
  }
}

/* The JSON value that [start, start+length) holds, without surrounding whitespace; an empty span if the
 * input is not exactly one valid JSON value. */
static struct json_span json_value(const char *start, size_t length) {
  struct json_span span = {NULL, 0};
  struct json_cursor c;
  const char *value_start;
  if (start == NULL) return span;
  c.at = start;
  c.end = start + length;
  skip_space(&c);
  value_start = c.at;
  if (!skip_value(&c, 0)) return span;
  skip_space(&c);
  if (c.at != c.end) return span;
  span.start = value_start;
  span.length = (size_t)(c.at - value_start);
  while (span.length > 0 && strchr(" \t\n\r", span.start[span.length - 1]) != NULL) --span.length;
  return span;
}

/* The first byte of a value says its type: '{', '[', '"', 't', 'f', 'n', or a number's first character;
 * '\0' for an empty span. */
static char json_kind(struct json_span value) { return value.length > 0 ? value.start[0] : '\0'; }

/* Finds member `key` of a valid JSON object; 1 and *value if found, else 0. */
static int json_member(struct json_span object, const char *key, struct json_span *value) {
  struct json_cursor c;
  size_t key_length = strlen(key);
  c.at = object.start;
  c.end = object.start + object.length;
  skip_space(&c);
  if (c.at >= c.end || *c.at != '{') return 0;
  ++c.at;
  for (;;) {
    const char *name, *value_start;
    skip_space(&c);
    if (c.at >= c.end || *c.at != '"') return 0;
    name = c.at + 1;
    if (!skip_string(&c)) return 0;
    skip_space(&c);
    ++c.at; /* ':' */
    skip_space(&c);
    value_start = c.at;
    if (!skip_value(&c, 0)) return 0;
    if ((size_t)(c.at - value_start) > 0 && (size_t)(c.at - name) > key_length &&
        memcmp(name, key, key_length) == 0 && name[key_length] == '"') {
      value->start = value_start;
      value->length = (size_t)(c.at - value_start);
      return 1;
    }
    skip_space(&c);
    if (c.at >= c.end || *c.at != ',') return 0;
    ++c.at;
  }
}

/* Iterates the elements of a valid JSON array: call with *cursor zeroed first; 1 and *element while there are
 * more. */
static int json_next_element(struct json_span array, struct json_cursor *cursor, struct json_span *element) {
  const char *start;
  if (cursor->at == NULL) {
    cursor->at = array.start;
    cursor->end = array.start + array.length;
    skip_space(cursor);
    ++cursor->at; /* '[' */
  } else {
    skip_space(cursor);
    if (cursor->at >= cursor->end || *cursor->at != ',') return 0;
    ++cursor->at;
  }
  skip_space(cursor);
  if (cursor->at >= cursor->end || *cursor->at == ']') return 0;
  start = cursor->at;
  if (!skip_value(cursor, 0)) return 0;
  element->start = start;
  element->length = (size_t)(cursor->at - start);
  return 1;
}

static char *copy_span(struct json_span span) {
  char *copy = (char *)malloc(span.length + 1);
  if (copy != NULL) {
    memcpy(copy, span.start, span.length);
    copy[span.length] = '\0';
  }
  return copy;
}

/* ------------------------------------------------------------------------ */
/* Adapter and jobs                                                          */
/* ------------------------------------------------------------------------ */

#define EVENTS_PER_JOB 3 /* started, one step, completed */

struct job {
  char *run_id; /* the raw JSON string token, quotes included */
  unsigned long id;
  unsigned long groups, trajectories;
  int events_delivered;
};

struct nat_trainer_adapter {
  struct live_object live;
  int initialized;
  struct job *jobs;
  size_t job_count, job_capacity;
  unsigned long next_job_id;
};

/* Checks an adapter argument; on success returns NULL with plugin_lock held. */
static nat_trainer_adapter_error *enter(nat_trainer_adapter *adapter) {
  pthread_mutex_lock(&plugin_lock);
  if (adapter == NULL || !is_live(adapter, KIND_ADAPTER)) {
    nat_trainer_adapter_error *error =
        make_error(NAT_TRAINER_ADAPTER_FAILED_PRECONDITION, "not a live adapter (NULL or already destroyed)");
    pthread_mutex_unlock(&plugin_lock);
    return error;
  }
  return NULL;
}

static nat_trainer_adapter_error *leave(nat_trainer_adapter_error *result) {
  pthread_mutex_unlock(&plugin_lock);
  return result;
}

static void add_job_ref(struct text *t, const struct job *job) {
  text_add(t, "{\"run_id\":");
  text_add(t, job->run_id);
  text_add(t, ",\"backend\":\"" MINIMAL_BACKEND "\",\"metadata\":{\"job_id\":");
  text_add_number(t, job->id);
  text_add(t, "}}");
}

static void add_job_status(struct text *t, const struct job *job) {
  text_add(t, "{\"run_id\":");
  text_add(t, job->run_id);
  text_add(t, ",\"backend\":\"" MINIMAL_BACKEND
              "\",\"status\":\"completed\",\"progress\":100.0,"
              "\"message\":\"Training completed (minimal adapter: nothing was trained).\","
              "\"metadata\":{\"job_id\":");
  text_add_number(t, job->id);
  text_add(t, ",\"groups\":");
  text_add_number(t, job->groups);
  text_add(t, ",\"trajectories\":");
  text_add_number(t, job->trajectories);
  text_add(t, "}}");
}

static void add_event(struct text *t, const struct job *job, int seq) {
  static const char *const types[EVENTS_PER_JOB] = {"started", "step", "completed"};
  text_add(t, "{\"run_id\":");
  text_add(t, job->run_id);
  text_add(t, ",\"job_id\":");
  text_add_number(t, job->id);
  text_add(t, ",\"seq\":");
  text_add_number(t, (unsigned long)seq);
  text_add(t, ",\"type\":\"");
  text_add(t, types[seq]);
  text_add(t, "\"");
  if (seq == 1) {
    text_add(t, ",\"step\":1,\"num_gradient_steps\":1,\"metrics\":{\"loss\":0.0,\"trajectories\":");
    text_add_number(t, job->trajectories);
    text_add(t, "}");
  } else if (seq == EVENTS_PER_JOB - 1) {
    text_add(t, ",\"final\":true,\"status\":");
    add_job_status(t, job);
  }
  text_add(t, "}");
}

/* The job a TrainingJobRef names: its metadata.job_id if present, else the newest with its run_id. */
static nat_trainer_adapter_error *find_job(nat_trainer_adapter *adapter, const char *ref_json, size_t ref_len,
                                           struct job **out) {
  struct json_span ref = json_value(ref_json, ref_len), run_id, metadata, job_id;
  unsigned long wanted_id = 0;
  size_t i;
  if (json_kind(ref) != '{') {
    return make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "job reference: not a JSON object");
  }
  if (!json_member(ref, "run_id", &run_id) || json_kind(run_id) != '"') {
    return make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "job reference: run_id must be a string");
  }
  if (json_member(ref, "metadata", &metadata) && json_kind(metadata) == '{' &&
      json_member(metadata, "job_id", &job_id)) {
    wanted_id = strtoul(job_id.start, NULL, 10);
  }
  for (i = adapter->job_count; i-- > 0;) {
    struct job *job = &adapter->jobs[i];
    if (strlen(job->run_id) == run_id.length && memcmp(job->run_id, run_id.start, run_id.length) == 0 &&
        (wanted_id == 0 || job->id == wanted_id)) {
      *out = job;
      return NULL;
    }
  }
  {
    struct text message = {0};
    text_add(&message, "no job with run_id ");
    text_add_n(&message, run_id.start, run_id.length);
    return make_error_from(NAT_TRAINER_ADAPTER_NOT_FOUND, &message);
  }
}

/* Validates a TrajectoryCollection as submit and convert need it, counting groups and trajectories. */
static nat_trainer_adapter_error *check_collection(const char *json, size_t length, struct json_span *run_id,
                                                   unsigned long *groups, unsigned long *trajectories) {
  struct json_span collection = json_value(json, length), all, group, trajectory;
  struct json_cursor group_cursor = {NULL, NULL};
  *groups = *trajectories = 0;
  if (json_kind(collection) != '{') {
    return make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "TrajectoryCollection: not a JSON object");
  }
  if (!json_member(collection, "trajectories", &all)) {
    return make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "TrajectoryCollection: missing trajectories");
  }
  if (!json_member(collection, "run_id", run_id) || json_kind(*run_id) != '"') {
    return make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "TrajectoryCollection: run_id must be a string");
  }
  if (json_kind(all) != '[') {
    return make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT,
                      "TrajectoryCollection: trajectories must be a list of lists");
  }
  while (json_next_element(all, &group_cursor, &group)) {
    struct json_cursor trajectory_cursor = {NULL, NULL};
    unsigned long in_group = 0;
    if (json_kind(group) != '[') {
      struct text message = {0};
      text_add(&message, "trajectories[");
      text_add_number(&message, *groups);
      text_add(&message, "]: a group must be a list of trajectories");
      return make_error_from(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, &message);
    }
    while (json_next_element(group, &trajectory_cursor, &trajectory)) {
      const char *problem = NULL;
      struct json_span episode, reward;
      if (json_kind(trajectory) != '{') {
        problem = "a trajectory must be an object";
      } else if (!json_member(trajectory, "episode", &episode) || json_kind(episode) != '[') {
        problem = "episode must be a list";
      } else if (!json_member(trajectory, "reward", &reward) ||
                 !(json_kind(reward) == '-' || (json_kind(reward) >= '0' && json_kind(reward) <= '9'))) {
        problem = "reward must be a number";
      }
      if (problem != NULL) {
        struct text message = {0};
        text_add(&message, "trajectories[");
        text_add_number(&message, *groups);
        text_add(&message, "][");
        text_add_number(&message, in_group);
        text_add(&message, "]: ");
        text_add(&message, problem);
        return make_error_from(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, &message);
      }
      ++in_group;
    }
    if (in_group > 0) {
      ++*groups;
      *trajectories += in_group;
    }
  }
  if (*groups == 0) {
    return make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "No valid trajectory groups to submit.");
  }
  return NULL;
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_create(
    const char *config_json, size_t config_len, nat_trainer_adapter **out_adapter) {
  struct json_span config = json_value(config_json, config_len), type;
  nat_trainer_adapter *adapter;
  pthread_mutex_lock(&plugin_lock);
  if (out_adapter == NULL) {
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_adapter is NULL"));
  }
  *out_adapter = NULL;
  if (json_kind(config) != '{') {
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "config: not a JSON object"));
  }
  if (json_member(config, "_type", &type) &&
      !(type.length == strlen("\"" MINIMAL_NAME "\"") &&
        memcmp(type.start, "\"" MINIMAL_NAME "\"", type.length) == 0)) {
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "_type: must be \"" MINIMAL_NAME "\""));
  }
  adapter = (nat_trainer_adapter *)calloc(1, sizeof *adapter);
  if (adapter == NULL) return leave(&out_of_memory_error);
  adapter->next_job_id = 1;
  track(&adapter->live, KIND_ADAPTER);
  *out_adapter = adapter;
  return leave(NULL);
}

NAT_TRAINER_ADAPTER_API void nat_trainer_adapter_destroy(nat_trainer_adapter *adapter) {
  size_t i;
  pthread_mutex_lock(&plugin_lock);
  if (adapter == NULL || !untrack(adapter, KIND_ADAPTER)) {
    pthread_mutex_unlock(&plugin_lock);
    return;
  }
  pthread_mutex_unlock(&plugin_lock);
  for (i = 0; i < adapter->job_count; ++i) free(adapter->jobs[i].run_id);
  free(adapter->jobs);
  free(adapter);
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_initialize(
    nat_trainer_adapter *adapter, const char *run_config_json, size_t run_config_len) {
  nat_trainer_adapter_error *error = enter(adapter);
  if (error != NULL) return error;
  if (json_kind(json_value(run_config_json, run_config_len)) != '{') {
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT,
                            "run config: not a JSON object (NAT's FinetuneConfig; {} is fine)"));
  }
  adapter->initialized = 1;
  return leave(NULL);
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_is_healthy(
    nat_trainer_adapter *adapter, int32_t *out_healthy) {
  nat_trainer_adapter_error *error = enter(adapter);
  if (error != NULL) return error;
  if (out_healthy == NULL) {
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_healthy is NULL"));
  }
  *out_healthy = 1; /* the in-memory backend is always there */
  return leave(NULL);
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_submit(
    nat_trainer_adapter *adapter, const char *collection_json, size_t collection_len,
    nat_trainer_adapter_buffer **out_job_ref) {
  struct json_span run_id;
  struct job *job;
  struct text ref = {0};
  unsigned long groups, trajectories;
  nat_trainer_adapter_error *error = enter(adapter);
  if (error != NULL) return error;
  if (out_job_ref == NULL)
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_job_ref is NULL"));
  *out_job_ref = NULL;
  if (!adapter->initialized) {
    return leave(
        make_error(NAT_TRAINER_ADAPTER_FAILED_PRECONDITION, "submit before a successful initialize"));
  }
  error = check_collection(collection_json, collection_len, &run_id, &groups, &trajectories);
  if (error != NULL) return leave(error);

  if (adapter->job_count == adapter->job_capacity) {
    size_t capacity = adapter->job_capacity ? adapter->job_capacity * 2 : 8;
    struct job *grown = (struct job *)realloc(adapter->jobs, capacity * sizeof *grown);
    if (grown == NULL) return leave(&out_of_memory_error);
    adapter->jobs = grown;
    adapter->job_capacity = capacity;
  }
  job = &adapter->jobs[adapter->job_count];
  job->run_id = copy_span(run_id);
  if (job->run_id == NULL) return leave(&out_of_memory_error);
  job->id = adapter->next_job_id++;
  job->groups = groups;
  job->trajectories = trajectories;
  job->events_delivered = 0;
  ++adapter->job_count;

  /* A real adapter starts its backend work here and returns at once. */
  add_job_ref(&ref, job);
  return leave(make_buffer(&ref, out_job_ref));
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_status(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len,
    nat_trainer_adapter_buffer **out_status) {
  struct job *job;
  struct text status = {0};
  nat_trainer_adapter_error *error = enter(adapter);
  if (error != NULL) return error;
  if (out_status == NULL)
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_status is NULL"));
  *out_status = NULL;
  error = find_job(adapter, job_ref_json, job_ref_len, &job);
  if (error != NULL) return leave(error);
  add_job_status(&status, job);
  return leave(make_buffer(&status, out_status));
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_wait_until_complete(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len, double poll_interval_s,
    double timeout_s, nat_trainer_adapter_buffer **out_status) {
  /* Every job is complete when submit returns, so there is nothing to wait for. */
  (void)poll_interval_s;
  (void)timeout_s;
  return nat_trainer_adapter_status(adapter, job_ref_json, job_ref_len, out_status);
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_cancel(nat_trainer_adapter *adapter,
                                                                              const char *job_ref_json,
                                                                              size_t job_ref_len) {
  struct job *job;
  nat_trainer_adapter_error *error = enter(adapter);
  if (error != NULL) return error;
  /* Cancelling a finished job is a no-op, and every job here is finished. */
  return leave(find_job(adapter, job_ref_json, job_ref_len, &job));
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_jobs(
    nat_trainer_adapter *adapter, nat_trainer_adapter_buffer **out_jobs) {
  struct text jobs = {0};
  size_t i;
  nat_trainer_adapter_error *error = enter(adapter);
  if (error != NULL) return error;
  if (out_jobs == NULL) return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_jobs is NULL"));
  *out_jobs = NULL;
  text_add(&jobs, "{\"jobs\":[");
  for (i = 0; i < adapter->job_count; ++i) {
    text_add(&jobs, i == 0 ? "{\"job_ref\":" : ",{\"job_ref\":");
    add_job_ref(&jobs, &adapter->jobs[i]);
    text_add(&jobs, ",\"status\":");
    add_job_status(&jobs, &adapter->jobs[i]);
    text_add(&jobs, "}");
  }
  text_add(&jobs, "]}");
  return leave(make_buffer(&jobs, out_jobs));
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_next_event(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len, double timeout_s,
    nat_trainer_adapter_buffer **out_event_or_null) {
  struct job *job;
  struct text event = {0};
  nat_trainer_adapter_error *error = enter(adapter);
  (void)timeout_s; /* events are ready at once, or the final one is already delivered */
  if (error != NULL) return error;
  if (out_event_or_null == NULL) {
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_event_or_null is NULL"));
  }
  *out_event_or_null = NULL;
  error = find_job(adapter, job_ref_json, job_ref_len, &job);
  if (error != NULL || job->events_delivered == EVENTS_PER_JOB) return leave(error);
  add_event(&event, job, job->events_delivered);
  error = make_buffer(&event, out_event_or_null);
  if (error == NULL) ++job->events_delivered;
  return leave(error);
}

/* One directory; on Windows, '\\' separates them too and there is no mode. */
#ifdef _WIN32
#define make_directory(path) _mkdir(path)
#define is_separator(c) ((c) == '/' || (c) == '\\')
#else
#define make_directory(path) mkdir(path, 0755)
#define is_separator(c) ((c) == '/')
#endif

/* mkdir -p */
static int make_directories(const char *path) {
  char *copy = (char *)malloc(strlen(path) + 1);
  char *at;
  int ok = 1;
  if (copy == NULL) return 0;
  strcpy(copy, path);
  for (at = copy + 1; ok && *at != '\0'; ++at) {
    char separator = *at;
    if (!is_separator(separator) || is_separator(at[-1]) || at[-1] == ':') continue;
    *at = '\0';
    if (make_directory(copy) != 0 && errno != EEXIST) ok = 0;
    *at = separator;
  }
  if (ok && make_directory(copy) != 0 && errno != EEXIST) ok = 0;
  free(copy);
  return ok;
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_log_progress(
    nat_trainer_adapter *adapter, const char *job_ref_json, size_t job_ref_len, const char *metrics_json,
    size_t metrics_len, const char *output_dir_or_null) {
  struct job *job;
  struct text path = {0}, line = {0};
  struct json_span metrics = json_value(metrics_json, metrics_len);
  const char *dir = output_dir_or_null != NULL ? output_dir_or_null : MINIMAL_DEFAULT_LOG_DIR;
  char timestamp[32];
  time_t now = time(NULL);
  struct tm utc;
  FILE *file;
  nat_trainer_adapter_error *error = enter(adapter);
  if (error != NULL) return error;
  error = find_job(adapter, job_ref_json, job_ref_len, &job);
  if (error != NULL) return leave(error);
  if (json_kind(metrics) != '{') {
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "metrics: not a JSON object"));
  }
  if (strchr(job->run_id + 1, '\\') != NULL || strchr(job->run_id + 1, '/') != NULL) {
    return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "run_id cannot be used in a file name"));
  }
  if (!make_directories(dir)) {
    struct text message = {0};
    text_add(&message, "cannot create ");
    text_add(&message, dir);
    text_add(&message, ": ");
    text_add(&message, strerror(errno));
    return leave(make_error_from(NAT_TRAINER_ADAPTER_UNAVAILABLE, &message));
  }

#ifdef _WIN32
  gmtime_s(&utc, &now);
#else
  gmtime_r(&now, &utc);
#endif
  strftime(timestamp, sizeof timestamp, "%Y-%m-%dT%H:%M:%S+00:00", &utc);
  text_add(&line, "{\"timestamp\":\"");
  text_add(&line, timestamp);
  text_add(&line, "\",\"run_id\":");
  text_add(&line, job->run_id);
  text_add(&line, ",\"backend\":\"" MINIMAL_BACKEND "\",\"trainer_config\":{}");
  {
    /* The members of the metrics object, without its braces. */
    struct json_cursor inner = {metrics.start + 1, metrics.start + metrics.length - 1};
    skip_space(&inner);
    if (inner.at < inner.end) {
      text_add(&line, ",");
      text_add_n(&line, inner.at, (size_t)(inner.end - inner.at));
    }
  }
  text_add(&line, "}\n");

  text_add(&path, dir);
  text_add(&path, "/trainer_adapter_");
  text_add_n(&path, job->run_id + 1, strlen(job->run_id) - 2);
  text_add(&path, ".jsonl");
  if (line.out_of_memory || path.out_of_memory) {
    free(line.data);
    free(path.data);
    return leave(&out_of_memory_error);
  }
  file = fopen(path.data, "a");
  if (file == NULL || fwrite(line.data, 1, line.size, file) != line.size || fclose(file) != 0) {
    struct text message = {0};
    text_add(&message, "cannot append to ");
    text_add(&message, path.data);
    error = make_error_from(NAT_TRAINER_ADAPTER_UNAVAILABLE, &message);
  }
  free(line.data);
  free(path.data);
  return leave(error);
}

NAT_TRAINER_ADAPTER_API nat_trainer_adapter_error *nat_trainer_adapter_convert(
    nat_trainer_adapter *adapter, const char *collection_json, size_t collection_len,
    nat_trainer_adapter_buffer **out_body) {
  struct json_span run_id;
  struct text body = {0};
  unsigned long groups, trajectories;
  nat_trainer_adapter_error *error = enter(adapter);
  if (error != NULL) return error;
  if (out_body == NULL) return leave(make_error(NAT_TRAINER_ADAPTER_INVALID_ARGUMENT, "out_body is NULL"));
  *out_body = NULL;
  error = check_collection(collection_json, collection_len, &run_id, &groups, &trajectories);
  if (error != NULL) return leave(error);
  /* What this "backend" would receive: a summary. A real adapter returns its request body. */
  text_add(&body, "{\"backend\":\"" MINIMAL_BACKEND "\",\"run_id\":");
  text_add_n(&body, run_id.start, run_id.length);
  text_add(&body, ",\"groups\":");
  text_add_number(&body, groups);
  text_add(&body, ",\"trajectories\":");
  text_add_number(&body, trajectories);
  text_add(&body, "}");
  return leave(make_buffer(&body, out_body));
}
