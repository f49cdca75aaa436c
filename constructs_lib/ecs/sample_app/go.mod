module example.com/archinfo

go 1.25
