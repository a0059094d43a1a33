//! The integration tests, one binary: each module is one area of the service, driven over HTTP
//! against a real `givetrail` server process (`common`). One binary links once and runs the
//! tests of every area from one pool of threads (`--test-threads`), so a slow test in one area
//! does not hold the others back.

mod common;

mod ageing;
mod atom;
mod caching;
mod citus;
mod disclosure;
mod disclosures;
mod import;
mod input_hardening;
mod keys;
mod ledger_api;
mod ledger_export;
mod needs;
mod openapi;
mod operations;
mod overload;
mod oversight;
mod qr;
mod read_model;
mod reconciliation;
mod regions;
mod reliability;
mod replica;
mod second_edition;
mod security;
mod verification;
mod web;
mod xlsx;
