module spindle/runtimes/go

go 1.21
