-- Bank statements uploaded by a regulator or the charity, and their lines: kept as uploaded,
-- append-only. A line is identified by its statement and its row in the uploaded CSV.
CREATE TABLE bank_statements (
    organization TEXT NOT NULL REFERENCES organizations (id),
    seq BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    line_count BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    PRIMARY KEY (organization, seq),
    UNIQUE (organization, sha256)
);

CREATE TABLE bank_lines (
    organization TEXT NOT NULL,
    statement BIGINT NOT NULL,
    row_no BIGINT NOT NULL,
    booked_on TEXT NOT NULL,
    direction TEXT NOT NULL,
    currency TEXT NOT NULL,
    units BIGINT NOT NULL,
    reference TEXT NOT NULL,
    counterparty TEXT NOT NULL,
    PRIMARY KEY (organization, statement, row_no),
    FOREIGN KEY (organization, statement) REFERENCES bank_statements (organization, seq),
    CHECK (units > 0 AND direction IN ('credit', 'debit'))
);
CREATE INDEX bank_lines_reference ON bank_lines (reference);

-- The reconciliation report looks for this log's receipt numbers and references on other
-- organisations' books (a fraud signal: the same money claimed twice).
CREATE INDEX lots_receipt_number ON lots (receipt_number);
CREATE INDEX disbursements_reference ON disbursements (reference);

-- Complaints from the public and the regulators' events on them; append-only. The tracking
-- code is random and unique; `contact` is private (regulators only).
CREATE TABLE complaints (
    organization TEXT NOT NULL REFERENCES organizations (id),
    code TEXT NOT NULL UNIQUE,
    entry_seq BIGINT,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    contact TEXT,
    filed_at BIGINT NOT NULL,
    PRIMARY KEY (organization, code)
);
CREATE INDEX complaints_filed ON complaints (filed_at, code);

CREATE TABLE complaint_events (
    organization TEXT NOT NULL,
    code TEXT NOT NULL,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    author TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (organization, code, seq),
    FOREIGN KEY (organization, code) REFERENCES complaints (organization, code)
);

CREATE TRIGGER bank_statements_append_only BEFORE UPDATE OR DELETE ON bank_statements
    FOR EACH ROW EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER bank_statements_no_truncate BEFORE TRUNCATE ON bank_statements
    FOR EACH STATEMENT EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER bank_lines_append_only BEFORE UPDATE OR DELETE ON bank_lines
    FOR EACH ROW EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER bank_lines_no_truncate BEFORE TRUNCATE ON bank_lines
    FOR EACH STATEMENT EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER complaints_append_only BEFORE UPDATE OR DELETE ON complaints
    FOR EACH ROW EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER complaints_no_truncate BEFORE TRUNCATE ON complaints
    FOR EACH STATEMENT EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER complaint_events_append_only BEFORE UPDATE OR DELETE ON complaint_events
    FOR EACH ROW EXECUTE FUNCTION givetrail_refuse_change();
CREATE TRIGGER complaint_events_no_truncate BEFORE TRUNCATE ON complaint_events
    FOR EACH STATEMENT EXECUTE FUNCTION givetrail_refuse_change();
