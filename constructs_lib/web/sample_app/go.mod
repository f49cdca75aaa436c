module example.com/datapath

go 1.25

require github.com/jackc/pgx/v5 v5.7.6
