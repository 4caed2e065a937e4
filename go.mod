module github.com/heliumid/heliumid-go

go 1.26.0

require (
	github.com/google/go-querystring v1.2.0 // indirect
	github.com/jarcoal/httpmock v1.4.2 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	go.uber.org/goleak v1.3.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)
