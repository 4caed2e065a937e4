// Command fixcmd is the fixture's command, which the README tells users to
// install.
package main

import (
	"fmt"
	"os"

	"example.com/fix"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--help" {
		fmt.Println("usage: fixcmd")
		return
	}
	fmt.Println(fix.Hello())
}
