module example.com/fix/sub

go 1.26.0

require example.com/fix v0.3.0

replace example.com/fix => ../
