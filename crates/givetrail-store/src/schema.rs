//! Diesel schema, identical on SQLite and PostgreSQL (timestamps are microseconds since the
//! Unix epoch in BIGINT; amounts are BIGINT units, see `givetrail_domain::asset`).

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        credit_code -> Text,
        kind -> Text,
        region_code -> Text,
        public_fundraising_qualified -> Bool,
        created_at -> BigInt,
    }
}

diesel::table! {
    recipients (id) {
        id -> Text,
        name -> Text,
        credit_code -> Nullable<Text>,
        kind -> Text,
        region_code -> Text,
        organization -> Nullable<Text>,
        created_at -> BigInt,
        ownership -> Nullable<Text>,
        designated_hospital -> Bool,
        registered_by_role -> Nullable<Text>,
        registered_by -> Nullable<Text>,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_keys (key_hash) {
        key_hash -> Text,
        key_id -> Text,
        role -> Text,
        organization -> Nullable<Text>,
        recipient -> Nullable<Text>,
        jurisdiction -> Nullable<Text>,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    entries (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        kind -> Text,
        occurred_at -> BigInt,
        recorded_at -> BigInt,
        canonical -> Text,
        entry_hash -> Text,
        prev_entry_hash -> Text,
        leaf_hash -> Text,
    }
}

diesel::table! {
    entry_private (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        private -> Text,
    }
}

diesel::table! {
    idempotency (key_id, idempotency_key) {
        key_id -> Text,
        idempotency_key -> Text,
        request_hash -> Text,
        status -> Integer,
        response -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    facts (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        kind -> Text,
        occurred_at -> BigInt,
        voided_by -> Nullable<BigInt>,
        about_seq -> Nullable<BigInt>,
        units -> BigInt,
    }
}

diesel::table! {
    campaigns (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        id -> Text,
        title -> Text,
        region_code -> Text,
        public_fundraising -> Bool,
        record_number -> Nullable<Text>,
        emergency -> Bool,
        starts_at -> BigInt,
        ends_at -> Nullable<BigInt>,
        voided_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    lots (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        receipt_number -> Text,
        campaign -> Nullable<Text>,
        asset_key -> Text,
        received -> BigInt,
        allocated -> BigInt,
        expensed -> BigInt,
        designated -> Bool,
        designated_region -> Nullable<Text>,
        designated_recipient -> Nullable<Text>,
        source_organization -> Nullable<Text>,
        source_seq -> Nullable<BigInt>,
        occurred_at -> BigInt,
        voided_by -> Nullable<BigInt>,
        costs_allowed -> Bool,
    }
}

diesel::table! {
    draws (organization, by_seq, donation_seq) {
        organization -> Text,
        by_seq -> BigInt,
        donation_seq -> BigInt,
        units -> BigInt,
        expense -> Bool,
    }
}

diesel::table! {
    allocations (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        recipient -> Text,
        asset_key -> Text,
        units -> BigInt,
        disbursed -> BigInt,
        pool -> Bool,
        donation_seq -> Nullable<BigInt>,
        need -> Nullable<Text>,
        voided_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    disbursements (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        allocation_seq -> BigInt,
        recipient -> Text,
        asset_key -> Text,
        units -> BigInt,
        acknowledged -> Nullable<BigInt>,
        used -> BigInt,
        reference -> Text,
        voided_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    expenses (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        asset_key -> Text,
        units -> BigInt,
        voided_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    merkle_nodes (organization, level, idx) {
        organization -> Text,
        level -> Integer,
        idx -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    checkpoints (organization, tree_size) {
        organization -> Text,
        tree_size -> BigInt,
        root_hash -> Text,
        timestamp -> Text,
        signature -> Text,
    }
}

diesel::table! {
    needs (id) {
        id -> Text,
        number -> BigInt,
        recipient -> Text,
        region_code -> Text,
        asset_key -> Text,
        item -> Text,
        units -> BigInt,
        urgency -> Text,
        needed_by -> Nullable<BigInt>,
        note -> Text,
        posted_at -> BigInt,
        withdrawn_at -> Nullable<BigInt>,
        withdrawal_reason -> Nullable<Text>,
    }
}

diesel::table! {
    bank_statements (organization, seq) {
        organization -> Text,
        seq -> BigInt,
        sha256 -> Text,
        line_count -> BigInt,
        uploaded_by -> Text,
        uploaded_at -> BigInt,
    }
}

diesel::table! {
    bank_lines (organization, statement, row_no) {
        organization -> Text,
        statement -> BigInt,
        row_no -> BigInt,
        booked_on -> Text,
        direction -> Text,
        currency -> Text,
        units -> BigInt,
        reference -> Text,
        counterparty -> Text,
    }
}

diesel::table! {
    complaints (organization, code) {
        organization -> Text,
        code -> Text,
        entry_seq -> Nullable<BigInt>,
        category -> Text,
        description -> Text,
        contact -> Nullable<Text>,
        filed_at -> BigInt,
    }
}

diesel::table! {
    complaint_events (organization, code, seq) {
        organization -> Text,
        code -> Text,
        seq -> BigInt,
        status -> Text,
        note -> Text,
        author -> Text,
        recorded_at -> BigInt,
    }
}

diesel::table! {
    signing_keys (seq) {
        seq -> BigInt,
        public_key -> Text,
        valid_from -> Text,
        rotation -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    bank_statements,
    bank_lines,
    complaints,
    complaint_events,
    needs,
    merkle_nodes,
    checkpoints,
    signing_keys,
    organizations,
    recipients,
    api_keys,
    entries,
    entry_private,
    idempotency,
    facts,
    campaigns,
    lots,
    draws,
    allocations,
    disbursements,
    expenses,
);
