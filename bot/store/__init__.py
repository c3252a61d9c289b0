"""Store: the tables, the database engine and migrations, the hash-chained audit log, chat
identities, the directory snapshot and the application's own secrets."""
