module github.com/nat-trainer-adapter/bindings/go/nattrainer

go 1.23
