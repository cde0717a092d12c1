package nattrainer

import "fmt"

// Code is a stable error code of the C ABI (nat_trainer_adapter_code).
// Codes added in a later 1.x are treated like CodeInternal by errors.Is.
type Code int32

const (
	CodeOK                 Code = 0
	CodeInvalidArgument    Code = 1
	CodeNotFound           Code = 2
	CodeAlreadyExists      Code = 3
	CodeFailedPrecondition Code = 4
	CodeUnavailable        Code = 5
	CodeDeadlineExceeded   Code = 6
	CodeCancelled          Code = 7
	CodeInternal           Code = 8
)

var codeNames = map[Code]string{
	CodeOK:                 "OK",
	CodeInvalidArgument:    "INVALID_ARGUMENT",
	CodeNotFound:           "NOT_FOUND",
	CodeAlreadyExists:      "ALREADY_EXISTS",
	CodeFailedPrecondition: "FAILED_PRECONDITION",
	CodeUnavailable:        "UNAVAILABLE",
	CodeDeadlineExceeded:   "DEADLINE_EXCEEDED",
	CodeCancelled:          "CANCELLED",
	CodeInternal:           "INTERNAL",
}

func (c Code) String() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("UNKNOWN(%d)", int32(c))
}

// Known reports whether the code is one of ABI 1.0.
func (c Code) Known() bool {
	_, ok := codeNames[c]
	return ok
}

// Error is an error returned by a plugin (or by loading one: loading
// failures carry CodeFailedPrecondition, a name not found CodeNotFound).
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("nattrainer: %s: %s", e.Code, e.Message)
}

// Is makes errors.Is(err, ErrNotFound) and the like match any *Error with
// that code; an unknown code matches ErrInternal.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t.Message != "" {
		return false
	}
	if t.Code == e.Code {
		return true
	}
	return t.Code == CodeInternal && !e.Code.Known()
}

// Sentinels for errors.Is.
var (
	ErrInvalidArgument    = &Error{Code: CodeInvalidArgument}
	ErrNotFound           = &Error{Code: CodeNotFound}
	ErrAlreadyExists      = &Error{Code: CodeAlreadyExists}
	ErrFailedPrecondition = &Error{Code: CodeFailedPrecondition}
	ErrUnavailable        = &Error{Code: CodeUnavailable}
	ErrDeadlineExceeded   = &Error{Code: CodeDeadlineExceeded}
	ErrCancelled          = &Error{Code: CodeCancelled}
	ErrInternal           = &Error{Code: CodeInternal}
)
