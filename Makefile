.PHONY: run test build bench
run:
	bash scripts/run.sh
test:
	bash scripts/test.sh
build:
	go build -o bin/rpserver ./cmd/rpserver
bench:
	go test -run '^$$' -bench . -benchmem ./internal/...
