-- Ferry schema, generated from the catalogue. Frozen once released.
CREATE TABLE ferry_meta (
  key TEXT PRIMARY KEY,
  value TEXT
);
CREATE TABLE run (
  id INTEGER PRIMARY KEY,
  mode TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  inputs TEXT NOT NULL,
  options TEXT NOT NULL,
  input_hash TEXT NOT NULL,
  error TEXT,
  checkpoint_phase INTEGER NOT NULL DEFAULT 0,
  checkpoint_seq INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0,
  warnings INTEGER NOT NULL DEFAULT 0,
  infos INTEGER NOT NULL DEFAULT 0,
  pid INTEGER
);
CREATE TABLE run_count (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  entity TEXT NOT NULL,
  read INTEGER NOT NULL DEFAULT 0,
  imported INTEGER NOT NULL DEFAULT 0,
  updated INTEGER NOT NULL DEFAULT 0,
  skipped INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  UNIQUE (run_id, entity)
);
CREATE TABLE run_finding (
  run_id INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  severity TEXT NOT NULL,
  code TEXT NOT NULL,
  entity TEXT,
  key TEXT,
  file TEXT,
  sheet TEXT,
  row INTEGER,
  col TEXT,
  field TEXT,
  value TEXT,
  message TEXT NOT NULL,
  hint TEXT,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE run_change (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  entity TEXT NOT NULL,
  row_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  before TEXT
);
CREATE INDEX run_change_run ON run_change (run_id);
CREATE TABLE invoice (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  "user" TEXT NOT NULL,
  name TEXT NOT NULL,
  closed INTEGER NOT NULL DEFAULT 0,
  delivered INTEGER NOT NULL DEFAULT 0,
  is_current INTEGER NOT NULL DEFAULT 0,
  total_e4 INTEGER NOT NULL DEFAULT 0,
  disbursed_e4 INTEGER NOT NULL DEFAULT 0,
  UNIQUE ("user", name)
);
CREATE TABLE ledger_line (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  "user" TEXT NOT NULL,
  invoice_id INTEGER,
  kind TEXT NOT NULL,
  rank INTEGER,
  amount_e4 INTEGER NOT NULL,
  disbursed_e4 INTEGER NOT NULL DEFAULT 0,
  auto_disburse INTEGER NOT NULL DEFAULT 0,
  entity TEXT NOT NULL,
  row_id INTEGER NOT NULL
);
CREATE INDEX ledger_line_user ON ledger_line ("user");
CREATE TABLE disbursement (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  payment_line_id INTEGER NOT NULL,
  invoice_id INTEGER NOT NULL,
  amount_e4 INTEGER NOT NULL
);
CREATE TABLE login (
  id INTEGER PRIMARY KEY,
  run_id INTEGER,
  "user" TEXT NOT NULL UNIQUE,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  must_reset INTEGER NOT NULL
);
CREATE TABLE reset_token (
  id INTEGER PRIMARY KEY,
  login_id INTEGER NOT NULL,
  token_hash TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT
);
CREATE TABLE run_rejected (
  run_id INTEGER NOT NULL,
  entity TEXT NOT NULL,
  key TEXT NOT NULL,
  file TEXT,
  sheet TEXT,
  row INTEGER,
  col TEXT,
  PRIMARY KEY (run_id, entity, key)
);
CREATE TABLE pending_login (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL,
  "user" TEXT NOT NULL,
  email TEXT,
  file TEXT,
  sheet TEXT,
  row INTEGER,
  col TEXT,
  password_hash TEXT
);
CREATE TABLE run_ledger_sum (
  run_id INTEGER NOT NULL,
  "user" TEXT NOT NULL,
  source_e4 INTEGER NOT NULL,
  imported_e4 INTEGER NOT NULL,
  rejected_e4 INTEGER NOT NULL,
  skipped_e4 INTEGER NOT NULL,
  PRIMARY KEY (run_id, "user")
);
CREATE TABLE "currency" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "code" TEXT,
  "name" TEXT
);
CREATE UNIQUE INDEX "currency_key" ON "currency" ("code");
CREATE TABLE "owner" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "currency" TEXT
);
CREATE UNIQUE INDEX "owner_key" ON "owner" ("name");
CREATE TABLE "role" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "role_key" ON "role" ("name");
CREATE TABLE "culture" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "culture_key" ON "culture" ("name");
CREATE TABLE "language" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "language_key" ON "language" ("name");
CREATE TABLE "status_type" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "status_type_key" ON "status_type" ("name");
CREATE TABLE "bill_group" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "bill_group_key" ON "bill_group" ("name");
CREATE TABLE "credit_rating" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "credit_rating_key" ON "credit_rating" ("name");
CREATE TABLE "contact_type" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "contact_type_key" ON "contact_type" ("name");
CREATE TABLE "contact_point_type" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "contact_point_type_key" ON "contact_point_type" ("name");
CREATE TABLE "note_type" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "note_type_key" ON "note_type" ("name");
CREATE TABLE "payment_type" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "payment_type_key" ON "payment_type" ("name");
CREATE TABLE "ticket_priority" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "ticket_priority_key" ON "ticket_priority" ("name");
CREATE TABLE "ticket_category" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "ticket_category_key" ON "ticket_category" ("name");
CREATE TABLE "ticket_status" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "ticket_status_key" ON "ticket_status" ("name");
CREATE TABLE "tax_code" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT
);
CREATE UNIQUE INDEX "tax_code_key" ON "tax_code" ("name");
CREATE TABLE "tax_rate" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "tax_code" TEXT,
  "rank" INTEGER,
  "name" TEXT,
  "percent" TEXT
);
CREATE UNIQUE INDEX "tax_rate_key" ON "tax_rate" ("tax_code", "rank");
CREATE TABLE "service" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "amount_e4" INTEGER
);
CREATE UNIQUE INDEX "service_key" ON "service" ("name");
CREATE TABLE "package" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "owner" TEXT,
  "bill_cycle" TEXT
);
CREATE UNIQUE INDEX "package_key" ON "package" ("name");
CREATE TABLE "package_service" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "package" TEXT,
  "service" TEXT,
  "amount_e4" INTEGER,
  "optional" INTEGER
);
CREATE UNIQUE INDEX "package_service_key" ON "package_service" ("package", "service");
CREATE TABLE "profile_question" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "applies_to" TEXT,
  "target" TEXT,
  "parent" TEXT
);
CREATE UNIQUE INDEX "profile_question_key" ON "profile_question" ("applies_to", "target", "name");
CREATE TABLE "user" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "owner" TEXT,
  "role" TEXT,
  "culture" TEXT,
  "currency" TEXT,
  "language" TEXT,
  "created_date" TEXT,
  "status_type" TEXT,
  "tax_code" TEXT,
  "bill_group" TEXT,
  "credit_rating" TEXT,
  "bill_day" INTEGER,
  "disable_reason" TEXT,
  "email" TEXT
);
CREATE UNIQUE INDEX "user_key" ON "user" ("name");
CREATE TABLE "child_account" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "name" TEXT,
  "parent" TEXT
);
CREATE UNIQUE INDEX "child_account_key" ON "child_account" ("name");
CREATE TABLE "contact" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "contact_name" TEXT,
  "contact_first_name" TEXT,
  "contact_last_name" TEXT,
  "contact_title" TEXT,
  "contact_type" TEXT,
  "contact_company" TEXT
);
CREATE UNIQUE INDEX "contact_key" ON "contact" ("user", "contact_name");
CREATE TABLE "contact_email" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "contact_name" TEXT,
  "email" TEXT,
  "contact_type" TEXT
);
CREATE INDEX "contact_email_account" ON "contact_email" ("user");
CREATE TABLE "contact_phone" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "contact_name" TEXT,
  "phone" TEXT,
  "phone_e164" TEXT,
  "contact_type" TEXT,
  "contact_point_type" TEXT
);
CREATE TABLE "contact_fax" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "contact_name" TEXT,
  "phone" TEXT,
  "phone_e164" TEXT,
  "contact_type" TEXT,
  "contact_point_type" TEXT
);
CREATE TABLE "contact_point" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "contact_name" TEXT,
  "contact_point_type" TEXT,
  "value" TEXT
);
CREATE TABLE "contact_address" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "contact_name" TEXT,
  "address1" TEXT,
  "address2" TEXT,
  "city" TEXT,
  "region" TEXT,
  "postal_code" TEXT,
  "country" TEXT,
  "contact_type" TEXT
);
CREATE TABLE "user_company" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "company" TEXT
);
CREATE TABLE "debit" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "date" TEXT,
  "debit_e4" INTEGER,
  "tax1_e4" INTEGER,
  "tax2_e4" INTEGER,
  "tax3_e4" INTEGER,
  "tax4_e4" INTEGER,
  "tax_code" TEXT,
  "description" TEXT,
  "package" TEXT,
  "period_start" TEXT,
  "period_end" TEXT,
  "invoice" TEXT,
  "ledger_seq" INTEGER,
  "invoice_id" INTEGER,
  "ledger_key" INTEGER
);
CREATE TABLE "credit" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "date" TEXT,
  "credit_e4" INTEGER,
  "bulk_amount" TEXT,
  "apply_tax" INTEGER,
  "tax_code" TEXT,
  "description" TEXT,
  "package" TEXT,
  "invoice" TEXT,
  "ledger_seq" INTEGER,
  "invoice_id" INTEGER,
  "ledger_key" INTEGER
);
CREATE TABLE "close_invoice" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "invoice" TEXT,
  "delivered" INTEGER,
  "ledger_seq" INTEGER,
  "invoice_id" INTEGER,
  "ledger_key" INTEGER
);
CREATE TABLE "payment" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "date" TEXT,
  "credit_e4" INTEGER,
  "description" TEXT,
  "payment_type" TEXT,
  "invoice" TEXT,
  "reference" TEXT,
  "ledger_seq" INTEGER,
  "invoice_id" INTEGER,
  "ledger_key" INTEGER
);
CREATE TABLE "user_package" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "name" TEXT,
  "next_bill_date" TEXT,
  "quantity" INTEGER
);
CREATE TABLE "user_service" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "name" TEXT,
  "optional" INTEGER,
  "quantity" INTEGER
);
CREATE TABLE "user_package_attribute_discount" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "user_service" TEXT,
  "discount_type" TEXT,
  "amount" TEXT
);
CREATE TABLE "user_attribute_expiry_date" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "date" TEXT
);
CREATE UNIQUE INDEX "user_attribute_expiry_date_key" ON "user_attribute_expiry_date" ("user");
CREATE TABLE "user_attribute_tax_class" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "tax_class" TEXT
);
CREATE UNIQUE INDEX "user_attribute_tax_class_key" ON "user_attribute_tax_class" ("user");
CREATE TABLE "user_attribute_tax_code" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "tax_code" TEXT
);
CREATE UNIQUE INDEX "user_attribute_tax_code_key" ON "user_attribute_tax_code" ("user");
CREATE TABLE "user_attribute_tax_exempt" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "tax_code" TEXT,
  "certificate" TEXT,
  "expiry_date" TEXT
);
CREATE UNIQUE INDEX "user_attribute_tax_exempt_key" ON "user_attribute_tax_exempt" ("user", "tax_code");
CREATE TABLE "user_note" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "type" TEXT,
  "date" TEXT,
  "note" TEXT,
  "created_by" TEXT
);
CREATE TABLE "profile_answer" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "question" TEXT,
  "answer" TEXT,
  "service" TEXT
);
CREATE TABLE "user_extended_attribute" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "name" TEXT,
  "value" TEXT
);
CREATE UNIQUE INDEX "user_extended_attribute_key" ON "user_extended_attribute" ("user", "name");
CREATE TABLE "user_package_extended_attribute" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "name" TEXT,
  "value" TEXT
);
CREATE UNIQUE INDEX "user_package_extended_attribute_key" ON "user_package_extended_attribute" ("user", "user_package", "name");
CREATE TABLE "user_package_status_change" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "status_type" TEXT,
  "date" TEXT
);
CREATE TABLE "user_service_attribute" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "user_service" TEXT,
  "name" TEXT,
  "value" TEXT
);
CREATE UNIQUE INDEX "user_service_attribute_key" ON "user_service_attribute" ("user", "user_package", "user_service", "name");
CREATE TABLE "user_service_contact" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "user_service" TEXT,
  "contact_name" TEXT
);
CREATE TABLE "user_service_telecom_bucket" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "user_service" TEXT,
  "bucket" TEXT,
  "amount" TEXT,
  "unit" TEXT
);
CREATE TABLE "user_service_profile_answer" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "user_service" TEXT,
  "question" TEXT,
  "answer" TEXT,
  "occurrence" INTEGER
);
CREATE TABLE "user_service_resource" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "user_package" TEXT,
  "user_service" TEXT,
  "resource" TEXT,
  "value" TEXT
);
CREATE TABLE "ticket" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "ticket_id" TEXT,
  "user" TEXT,
  "reference" TEXT,
  "subject" TEXT,
  "description" TEXT,
  "resolution" TEXT,
  "assigned_to" TEXT,
  "logged_by" TEXT,
  "date" TEXT,
  "time_spent" INTEGER,
  "status" TEXT,
  "priority" TEXT,
  "closed_by" TEXT,
  "date_closed" TEXT,
  "category" TEXT,
  "contact_method" TEXT,
  "from_address" TEXT,
  "total_time_spent" INTEGER,
  "current_time_spent" INTEGER,
  "last_modified_by" TEXT,
  "hidden_resolution" TEXT,
  "show_to_user" INTEGER,
  "due_date" TEXT
);
CREATE UNIQUE INDEX "ticket_key" ON "ticket" ("ticket_id");
CREATE TABLE "ticket_tracking" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "ticket_id" TEXT,
  "date" TEXT,
  "by" TEXT,
  "text" TEXT,
  "show_to_user" INTEGER
);
CREATE TABLE "ticket_attachment" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "ticket_id" TEXT,
  "file_name" TEXT,
  "path" TEXT,
  "data" TEXT,
  "content" BLOB,
  "size" INTEGER
);
CREATE TABLE "user_payment_method" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "user" TEXT,
  "ref" TEXT,
  "default" INTEGER
);
CREATE UNIQUE INDEX "user_payment_method_key" ON "user_payment_method" ("ref");
CREATE TABLE "user_payment_method_cash" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "ref" TEXT
);
CREATE UNIQUE INDEX "user_payment_method_cash_key" ON "user_payment_method_cash" ("ref");
CREATE TABLE "user_payment_method_check" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "ref" TEXT,
  "bank_name" TEXT,
  "check_number" TEXT
);
CREATE UNIQUE INDEX "user_payment_method_check_key" ON "user_payment_method_check" ("ref");
CREATE TABLE "user_payment_method_credit_card" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "ref" TEXT,
  "expiry_month" INTEGER,
  "expiry_year" INTEGER,
  "name_on_card" TEXT,
  "card_brand" TEXT,
  "card_last4" TEXT,
  "card_fingerprint" TEXT
);
CREATE UNIQUE INDEX "user_payment_method_credit_card_key" ON "user_payment_method_credit_card" ("ref");
CREATE TABLE "user_payment_method_ach" (
  "id" INTEGER PRIMARY KEY,
  "run_id" INTEGER,
  "src_file" TEXT,
  "src_sheet" TEXT,
  "src_row" INTEGER,
  "src_col" TEXT,
  "rec_hash" INTEGER NOT NULL,
  "ref" TEXT,
  "routing_number" TEXT,
  "account_type" TEXT,
  "bank_name" TEXT,
  "account_last4" TEXT,
  "account_fingerprint" TEXT
);
CREATE UNIQUE INDEX "user_payment_method_ach_key" ON "user_payment_method_ach" ("ref");
