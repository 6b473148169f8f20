-- Ferry schema version 2: legacy certification migration (SPEC §11), configuration moved
-- between targets (§12), and the kind of each run.
--
-- Changes to version 1's tables, written by hand:
ALTER TABLE run ADD COLUMN kind TEXT NOT NULL DEFAULT 'import';
-- A tax line's rank (1 to 4) was a column named after an ordering (and after the window function
-- reporting SQL uses): it is the tax rank.
ALTER TABLE ledger_line RENAME COLUMN rank TO tax_rank;
-- Generated below by `FERRY_BLESS=1 cargo test -p ferry-store` while unreleased: the tables and indexes new in this version.
CREATE TABLE "saved_mapping" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "entity" TEXT,
  "column" TEXT,
  "field" TEXT
);
CREATE UNIQUE INDEX "saved_mapping_key" ON "saved_mapping" ("name", "entity", "column");
CREATE TABLE "saved_query" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "description" TEXT,
  "sql" TEXT
);
CREATE UNIQUE INDEX "saved_query_key" ON "saved_query" ("name");
