-- Ferry schema version 2: legacy certification migration (SPEC §11), configuration moved
-- between targets (§12), the kind of each run, and the staff of the web console (§14).
--
-- Changes to version 1's tables, written by hand:
ALTER TABLE run ADD COLUMN kind TEXT NOT NULL DEFAULT 'import';
-- A tax line's rank (1 to 4) was a column named after an ordering (and after the window function
-- reporting SQL uses): it is the tax rank.
ALTER TABLE ledger_line RENAME COLUMN rank TO tax_rank;
-- Web logins managed after the migration (seed 000 "usernames and passwords"): a temporary
-- password that staff set must be changed at first sign-in, and when a password was last set.
ALTER TABLE login ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
ALTER TABLE login ADD COLUMN password_changed_at TEXT;
-- Version 1 kept the fingerprint key of card and account numbers in ferry_meta, so any copy of
-- a target (the file, a backup, a dump) was enough to recover the numbers from their
-- fingerprints. The key leaves the target (Ferry now keeps it in a key file outside it), and the
-- fingerprints made with it go too: without the key they can never match again.
DELETE FROM ferry_meta WHERE key = 'fingerprint_key';
UPDATE user_payment_method_credit_card SET card_fingerprint = NULL WHERE card_fingerprint IS NOT NULL;
UPDATE user_payment_method_ach SET account_fingerprint = NULL WHERE account_fingerprint IS NOT NULL;
-- An account may hold identical packages and services (SPEC §4.4: a family with two identical
-- phone lines): which of them a row is becomes part of its key. Existing rows are occurrences
-- 1, 2, … in the order they were stored, per account and name (their key index is generated
-- below).
ALTER TABLE user_package ADD COLUMN occurrence INTEGER;
UPDATE user_package SET occurrence = (SELECT o.n FROM (SELECT id, row_number() OVER (PARTITION BY "user", name ORDER BY id) AS n FROM user_package) AS o WHERE o.id = user_package.id);
ALTER TABLE user_service ADD COLUMN occurrence INTEGER;
UPDATE user_service SET occurrence = (SELECT o.n FROM (SELECT id, row_number() OVER (PARTITION BY "user", user_package, name ORDER BY id) AS n FROM user_service) AS o WHERE o.id = user_service.id);
-- Generated below by `FERRY_BLESS=1 cargo test -p ferry-store` while unreleased: the tables and indexes new in this version.
CREATE INDEX reset_token_hash ON reset_token (token_hash);
CREATE INDEX reset_token_login ON reset_token (login_id, used_at);
CREATE TABLE login_event (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  login_id INTEGER,
  "user" TEXT,
  username TEXT,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX login_event_login ON login_event (login_id);
CREATE INDEX pending_login_user ON pending_login (run_id, "user");
CREATE TABLE run_event (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX run_event_run ON run_event (run_id);
CREATE TABLE cert_program (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  code TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT,
  requires_approval INTEGER NOT NULL
);
CREATE TABLE cert_component (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  code TEXT NOT NULL UNIQUE,
  title TEXT NOT NULL,
  description TEXT,
  requires_approval INTEGER NOT NULL,
  requires_grade INTEGER NOT NULL
);
CREATE TABLE cert_program_component (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  program_code TEXT NOT NULL,
  component_code TEXT NOT NULL,
  required INTEGER NOT NULL DEFAULT 0,
  added_by_migration INTEGER NOT NULL DEFAULT 0,
  UNIQUE (program_code, component_code)
);
CREATE TABLE cert_registration (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  "user" TEXT NOT NULL,
  program_code TEXT NOT NULL,
  status TEXT,
  registered_date TEXT,
  completed_date TEXT,
  UNIQUE ("user", program_code)
);
CREATE TABLE cert_enrollment (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  seqn INTEGER NOT NULL UNIQUE,
  registration_id INTEGER NOT NULL,
  "user" TEXT NOT NULL,
  program_code TEXT NOT NULL,
  component_code TEXT NOT NULL,
  status TEXT,
  grade TEXT,
  registered_date TEXT,
  completed_date TEXT
);
CREATE TABLE staff_user (
  id INTEGER PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created_at TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  last_sign_in_at TEXT
);
CREATE TABLE staff_session (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  staff_id INTEGER NOT NULL,
  csrf TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE TABLE staff_device (
  id INTEGER PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  staff_id INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  last_used_at TEXT NOT NULL
);
CREATE UNIQUE INDEX "user_package_key" ON "user_package" ("user", "name", "occurrence");
CREATE UNIQUE INDEX "user_service_key" ON "user_service" ("user", "user_package", "name", "occurrence");
CREATE TABLE "legacy_program" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "program_code" TEXT,
  "title" TEXT,
  "established" TEXT,
  "industry_code" TEXT,
  "uf_1" TEXT,
  "uf_2" TEXT,
  "uf_3" TEXT,
  "uf_4" TEXT,
  "coordinators" TEXT,
  "notes" TEXT,
  "prerequisites" TEXT,
  "seqn" INTEGER
);
CREATE UNIQUE INDEX "legacy_program_key" ON "legacy_program" ("program_code");
CREATE TABLE "legacy_component" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "component_code" TEXT,
  "title" TEXT,
  "address" TEXT,
  "prerequisites" TEXT,
  "instructors" TEXT
);
CREATE UNIQUE INDEX "legacy_component_key" ON "legacy_component" ("component_code");
CREATE TABLE "legacy_program_component" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "program_code" TEXT,
  "component_code" TEXT,
  "required" INTEGER
);
CREATE UNIQUE INDEX "legacy_program_component_key" ON "legacy_program_component" ("program_code", "component_code");
CREATE TABLE "legacy_registration" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "seqn" INTEGER,
  "student_id" TEXT,
  "program_code" TEXT,
  "component_code" TEXT,
  "status" TEXT,
  "grade" TEXT,
  "registered_date" TEXT,
  "completed_date" TEXT
);
CREATE UNIQUE INDEX "legacy_registration_key" ON "legacy_registration" ("seqn");
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
CREATE TABLE "import_mapping" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "definition" TEXT,
  "description" TEXT
);
CREATE UNIQUE INDEX "import_mapping_key" ON "import_mapping" ("name");
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
