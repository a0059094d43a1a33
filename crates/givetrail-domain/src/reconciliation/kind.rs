//! What a finding can say: every [`FindingKind`], with its wire name, its section, its default
//! severity and a sentence in English and in Chinese telling a reader what it means. The
//! catalogue is served as is by `GET /api/v1/finding_kinds`.

use serde::{Deserialize, Serialize};

use super::model::{Section, Severity};

/// The kind of a finding. Serialised as the snake_case wire name the JSON and CSV reports carry
/// (`acknowledgement_discrepancy`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    // Integrity
    /// The hash chain breaks.
    ChainBroken,
    /// The hash chain recomputes.
    ChainVerified,
    /// Entries but no signed checkpoint.
    CheckpointMissing,
    /// The latest checkpoint checks out (or the log is empty).
    CheckpointVerified,
    /// The signed Merkle root differs from the log's.
    CheckpointRootMismatch,
    /// The checkpoint signature does not verify.
    CheckpointSignatureInvalid,
    /// No public key to check the checkpoint signature.
    CheckpointSignatureUnchecked,
    /// The checkpoint covers only part of the log.
    CheckpointBehind,
    /// Derived tables equal a replay.
    DerivedConsistent,
    /// Derived tables differ from a replay.
    DerivedMismatch,
    /// Derived tables were not compared in this report (an incremental one).
    DerivedUnchecked,
    // Balances
    /// An asset's identities do not hold.
    BalanceMismatch,
    /// More acknowledged than disbursed.
    AcknowledgedExceedsDisbursed,
    /// An asset's identities hold.
    BalancesHold,
    // Designations
    /// An allocation departs from a designation, citing consent.
    DesignationChange,
    /// An allocation breaks a designation.
    DesignationBreach,
    /// Every designation honoured.
    DesignationsHonoured,
    // Ageing
    /// A donation unallocated beyond its limit.
    UnallocatedTooLong,
    /// An allocation undisbursed beyond its limit.
    UndisbursedTooLong,
    /// Nothing beyond its limit.
    NothingOverdue,
    /// Receipt-to-disbursement latency.
    ReceiptToDisbursement,
    // Receipt
    /// A disbursement unacknowledged beyond its limit.
    Unacknowledged,
    /// Acknowledged differently from what was sent.
    AcknowledgementDiscrepancy,
    /// Every acknowledgement as sent.
    ReceiptsConsistent,
    // Spending
    /// Usage against acknowledgements.
    UsageReported,
    /// Expenses against receipts.
    ExpenseShare,
    /// Expenses above the warning share.
    ExpenseShareHigh,
    /// A campaign's own expenses above its `cost_limit_percent` of what it disbursed plus
    /// expenses.
    CostRatioExceeded,
    // Bank
    /// No statement uploaded.
    NoBankStatement,
    /// Lines matched.
    BankMatched,
    /// A matched line with a different amount.
    BankAmountMismatch,
    /// A money entry with no bank line.
    EntryWithoutBankLine,
    /// A bank line with no entry.
    BankLineWithoutEntry,
    // Disclosure
    /// Entries published after their deadline.
    LateDisclosure,
    /// An entry was corrected.
    Correction,
    /// A correction with a date that cannot be right.
    CorrectionWithImpossibleDate,
    /// An entry with a date that cannot be right.
    ImpossibleDate,
    /// Everything published on time, nothing corrected.
    DisclosureTimely,
    /// A calendar quarter with entries but no periodic disclosure covering it in time.
    DisclosureOverdue,
    // Fundraising
    /// A public campaign without a record number.
    CampaignWithoutRecordNumber,
    /// Public fundraising without the qualification.
    UnqualifiedPublicFundraising,
    /// A public donation to a campaign without a record number.
    ReceiptWithoutRecordNumber,
    /// A donation outside its campaign's dates.
    ReceiptOutsideCampaign,
    /// A receipt number used with different channels.
    ReceiptReusedAcrossChannels,
    /// A reference also on another organisation's books.
    ReferenceOnOtherBooks,
    /// A recipient registered under the exact name of one registered before it.
    RecipientNameDuplicate,
    /// No fraud signal.
    NoFraudSignal,
    // Priority
    /// Share of undesignated disbursements to priority regions.
    PriorityShare,
    // Needs
    /// Goods sent where nobody asked while an urgent need in a priority region waited.
    AllocationBypassedNeed,
    /// A critical need left waiting while the organisation held the goods.
    NeedUnmetWhileStockHeld,
    // Transfers
    /// A transfer the receiving organisation did not record in time.
    TransferNotRecorded,
    /// A transfer recorded with less than was sent.
    TransferQuantityDiffers,
    /// A transfer recorded without its designation, by donor consent.
    TransferDesignationChanged,
    // Procurement
    /// A unit price far above what others paid for the same goods.
    ProcurementPriceOutlier,
    // Complaints
    /// A complaint about the organisation.
    Complaint,
}

/// What the catalogue says about one kind.
struct Spec {
    section: Section,
    severity: Severity,
    en: &'static str,
    zh: &'static str,
}

const fn spec(section: Section, severity: Severity, en: &'static str, zh: &'static str) -> Spec {
    Spec {
        section,
        severity,
        en,
        zh,
    }
}

impl FindingKind {
    /// Every kind, in report order.
    pub const ALL: [FindingKind; 55] = [
        Self::ChainBroken,
        Self::ChainVerified,
        Self::CheckpointMissing,
        Self::CheckpointVerified,
        Self::CheckpointRootMismatch,
        Self::CheckpointSignatureInvalid,
        Self::CheckpointSignatureUnchecked,
        Self::CheckpointBehind,
        Self::DerivedConsistent,
        Self::DerivedMismatch,
        Self::DerivedUnchecked,
        Self::BalanceMismatch,
        Self::AcknowledgedExceedsDisbursed,
        Self::BalancesHold,
        Self::DesignationChange,
        Self::DesignationBreach,
        Self::DesignationsHonoured,
        Self::UnallocatedTooLong,
        Self::UndisbursedTooLong,
        Self::NothingOverdue,
        Self::ReceiptToDisbursement,
        Self::Unacknowledged,
        Self::AcknowledgementDiscrepancy,
        Self::ReceiptsConsistent,
        Self::UsageReported,
        Self::ExpenseShare,
        Self::ExpenseShareHigh,
        Self::CostRatioExceeded,
        Self::NoBankStatement,
        Self::BankMatched,
        Self::BankAmountMismatch,
        Self::EntryWithoutBankLine,
        Self::BankLineWithoutEntry,
        Self::LateDisclosure,
        Self::Correction,
        Self::CorrectionWithImpossibleDate,
        Self::ImpossibleDate,
        Self::DisclosureTimely,
        Self::DisclosureOverdue,
        Self::CampaignWithoutRecordNumber,
        Self::UnqualifiedPublicFundraising,
        Self::ReceiptWithoutRecordNumber,
        Self::ReceiptOutsideCampaign,
        Self::ReceiptReusedAcrossChannels,
        Self::ReferenceOnOtherBooks,
        Self::RecipientNameDuplicate,
        Self::NoFraudSignal,
        Self::PriorityShare,
        Self::AllocationBypassedNeed,
        Self::NeedUnmetWhileStockHeld,
        Self::TransferNotRecorded,
        Self::TransferQuantityDiffers,
        Self::TransferDesignationChanged,
        Self::ProcurementPriceOutlier,
        Self::Complaint,
    ];

    /// The wire name (`acknowledgement_discrepancy`), as serde writes it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ChainBroken => "chain_broken",
            Self::ChainVerified => "chain_verified",
            Self::CheckpointMissing => "checkpoint_missing",
            Self::CheckpointVerified => "checkpoint_verified",
            Self::CheckpointRootMismatch => "checkpoint_root_mismatch",
            Self::CheckpointSignatureInvalid => "checkpoint_signature_invalid",
            Self::CheckpointSignatureUnchecked => "checkpoint_signature_unchecked",
            Self::CheckpointBehind => "checkpoint_behind",
            Self::DerivedConsistent => "derived_consistent",
            Self::DerivedMismatch => "derived_mismatch",
            Self::DerivedUnchecked => "derived_unchecked",
            Self::BalanceMismatch => "balance_mismatch",
            Self::AcknowledgedExceedsDisbursed => "acknowledged_exceeds_disbursed",
            Self::BalancesHold => "balances_hold",
            Self::DesignationChange => "designation_change",
            Self::DesignationBreach => "designation_breach",
            Self::DesignationsHonoured => "designations_honoured",
            Self::UnallocatedTooLong => "unallocated_too_long",
            Self::UndisbursedTooLong => "undisbursed_too_long",
            Self::NothingOverdue => "nothing_overdue",
            Self::ReceiptToDisbursement => "receipt_to_disbursement",
            Self::Unacknowledged => "unacknowledged",
            Self::AcknowledgementDiscrepancy => "acknowledgement_discrepancy",
            Self::ReceiptsConsistent => "receipts_consistent",
            Self::UsageReported => "usage_reported",
            Self::ExpenseShare => "expense_share",
            Self::ExpenseShareHigh => "expense_share_high",
            Self::CostRatioExceeded => "cost_ratio_exceeded",
            Self::NoBankStatement => "no_bank_statement",
            Self::BankMatched => "bank_matched",
            Self::BankAmountMismatch => "bank_amount_mismatch",
            Self::EntryWithoutBankLine => "entry_without_bank_line",
            Self::BankLineWithoutEntry => "bank_line_without_entry",
            Self::LateDisclosure => "late_disclosure",
            Self::Correction => "correction",
            Self::CorrectionWithImpossibleDate => "correction_with_impossible_date",
            Self::ImpossibleDate => "impossible_date",
            Self::DisclosureTimely => "disclosure_timely",
            Self::DisclosureOverdue => "disclosure_overdue",
            Self::CampaignWithoutRecordNumber => "campaign_without_record_number",
            Self::UnqualifiedPublicFundraising => "unqualified_public_fundraising",
            Self::ReceiptWithoutRecordNumber => "receipt_without_record_number",
            Self::ReceiptOutsideCampaign => "receipt_outside_campaign",
            Self::ReceiptReusedAcrossChannels => "receipt_reused_across_channels",
            Self::ReferenceOnOtherBooks => "reference_on_other_books",
            Self::RecipientNameDuplicate => "recipient_name_duplicate",
            Self::NoFraudSignal => "no_fraud_signal",
            Self::PriorityShare => "priority_share",
            Self::AllocationBypassedNeed => "allocation_bypassed_need",
            Self::NeedUnmetWhileStockHeld => "need_unmet_while_stock_held",
            Self::TransferNotRecorded => "transfer_not_recorded",
            Self::TransferQuantityDiffers => "transfer_quantity_differs",
            Self::TransferDesignationChanged => "transfer_designation_changed",
            Self::ProcurementPriceOutlier => "procurement_price_outlier",
            Self::Complaint => "complaint",
        }
    }

    /// Parse the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The section its findings belong to.
    pub fn section(&self) -> Section {
        self.spec().section
    }

    /// Its usual severity. Two kinds vary: `unqualified_public_fundraising` is a warning for a
    /// single donation through an online platform, and a `complaint` once closed is info.
    pub fn severity(&self) -> Severity {
        self.spec().severity
    }

    /// What it means, in one English sentence.
    pub fn describe_en(&self) -> &'static str {
        self.spec().en
    }

    /// What it means, in one Chinese sentence.
    pub fn describe_zh(&self) -> &'static str {
        self.spec().zh
    }

    /// Its catalogue entry.
    pub fn info(&self) -> FindingKindInfo {
        FindingKindInfo {
            kind: *self,
            section: self.section(),
            severity: self.severity(),
            en: self.describe_en(),
            zh: self.describe_zh(),
        }
    }

    /// Every kind's catalogue entry, in report order.
    pub fn catalogue() -> Vec<FindingKindInfo> {
        Self::ALL.iter().map(Self::info).collect()
    }

    fn spec(&self) -> Spec {
        use Section as S;
        use Severity::{Info, Violation, Warning};
        match self {
            Self::ChainBroken => spec(
                S::Integrity,
                Violation,
                "The log's hashes stop recomputing at some entry, so the published history cannot be trusted from there on.",
                "日志从某一条目起哈希无法重新计算，此后公布的历史不可信。",
            ),
            Self::ChainVerified => spec(
                S::Integrity,
                Info,
                "Every entry's canonical form, hash, link to the previous entry and Merkle leaf recompute.",
                "每个条目的规范形式、哈希、与前一条目的链接以及默克尔叶子都能重新算出。",
            ),
            Self::CheckpointMissing => spec(
                S::Integrity,
                Violation,
                "The log has entries but no signed checkpoint, so nothing commits the server to this history.",
                "日志已有条目却没有签名检查点，服务器没有对这段历史作出承诺。",
            ),
            Self::CheckpointVerified => spec(
                S::Integrity,
                Info,
                "The latest signed checkpoint covers the whole log, its Merkle root matches and its signature verifies, or the log is empty.",
                "最新签名检查点覆盖整个日志，默克尔根一致且签名有效，或日志为空。",
            ),
            Self::CheckpointRootMismatch => spec(
                S::Integrity,
                Violation,
                "The entries the latest signed checkpoint covers give a different Merkle root than the one signed, so the history differs from what was signed.",
                "最新签名检查点所覆盖的条目算出的默克尔根与签名的根不同，历史与签名时不一致。",
            ),
            Self::CheckpointSignatureInvalid => spec(
                S::Integrity,
                Violation,
                "The latest checkpoint's signature does not verify with the server's public key.",
                "最新检查点的签名无法用服务器公钥验证。",
            ),
            Self::CheckpointSignatureUnchecked => spec(
                S::Integrity,
                Warning,
                "The latest checkpoint's signature was not checked because no public key was available.",
                "没有可用的公钥，最新检查点的签名未经验证。",
            ),
            Self::CheckpointBehind => spec(
                S::Integrity,
                Warning,
                "The latest signed checkpoint covers only part of the log, so the newest entries are not yet signed.",
                "最新签名检查点只覆盖了部分日志，最新的条目尚未签名。",
            ),
            Self::DerivedConsistent => spec(
                S::Integrity,
                Info,
                "The stored balances equal those rebuilt by replaying the log.",
                "存储的余额与重放日志重建的余额一致。",
            ),
            Self::DerivedMismatch => spec(
                S::Integrity,
                Violation,
                "The stored balances differ from those rebuilt by replaying the log.",
                "存储的余额与重放日志重建的余额不一致。",
            ),
            Self::DerivedUnchecked => spec(
                S::Integrity,
                Info,
                "The stored balances were not compared with a replay of the log in this incremental report; a full report compares them.",
                "本次增量报告未将存储的余额与重放日志重建的余额比对；完整报告会比对。",
            ),
            Self::BalanceMismatch => spec(
                S::Balances,
                Violation,
                "For one asset the books do not add up: the received, allocated, expensed, procured, disbursed and acknowledged figures contradict each other.",
                "某项资产的账目不平：接收、分配、支出、采购、拨付和签收的数字相互矛盾。",
            ),
            Self::AcknowledgedExceedsDisbursed => spec(
                S::Balances,
                Warning,
                "Recipients acknowledged more of an asset than was disbursed.",
                "受助方签收的某项资产多于实际拨付的数量。",
            ),
            Self::BalancesHold => spec(
                S::Balances,
                Info,
                "For one asset, received (goods bought with donated money included) equals allocated plus expenses plus money spent on purchases plus unallocated, and allocated equals disbursed plus undisbursed.",
                "某项资产的接收额（含用捐赠资金采购的物资）等于分配加支出加采购用款加未分配，分配额等于已拨付加未拨付。",
            ),
            Self::DesignationChange => spec(
                S::Designations,
                Warning,
                "An allocation departs from the donor's designation, citing the donor's consent, which should be checked.",
                "一笔分配偏离了捐赠人的定向用途并称已获捐赠人同意，需要核实该同意。",
            ),
            Self::DesignationBreach => spec(
                S::Designations,
                Violation,
                "An allocation sends designated donations to a recipient or region the donor did not choose, without consent.",
                "一笔分配未经同意，把定向捐赠用于捐赠人未指定的受助方或地区。",
            ),
            Self::DesignationsHonoured => spec(
                S::Designations,
                Info,
                "Every allocation honours its donations' designations and no designation was changed.",
                "所有分配都遵守了捐赠的定向用途，也没有更改任何定向。",
            ),
            Self::UnallocatedTooLong => spec(
                S::Ageing,
                Warning,
                "Part of a donation has stayed unallocated longer than the limit for its campaign.",
                "某笔捐赠有部分款物未分配的时间超过了其项目的时限。",
            ),
            Self::UndisbursedTooLong => spec(
                S::Ageing,
                Warning,
                "Money or goods allocated to a recipient have not been sent within the limit.",
                "分配给受助方的款物未在时限内拨付。",
            ),
            Self::NothingOverdue => spec(
                S::Ageing,
                Info,
                "Nothing is unallocated or undisbursed beyond its limit.",
                "没有超出时限仍未分配或未拨付的款物。",
            ),
            Self::ReceiptToDisbursement => spec(
                S::Ageing,
                Info,
                "Disbursed units waited this long after their donation was received, as a median and a 90th percentile.",
                "已拨付的款物从捐赠到账到拨付所等待的时间，以中位数和第90百分位表示。",
            ),
            Self::Unacknowledged => spec(
                S::Receipt,
                Warning,
                "A disbursement has not been acknowledged by its recipient within the limit.",
                "一笔拨付在时限内未获受助方签收。",
            ),
            Self::AcknowledgementDiscrepancy => spec(
                S::Receipt,
                Warning,
                "A recipient acknowledged a different quantity or amount than was sent.",
                "受助方签收的数量或金额与拨付的不一致。",
            ),
            Self::ReceiptsConsistent => spec(
                S::Receipt,
                Info,
                "Every acknowledged disbursement was acknowledged as sent and none is overdue.",
                "所有已签收的拨付都与所拨数量一致，且没有逾期未签收的。",
            ),
            Self::UsageReported => spec(
                S::Spending,
                Info,
                "How much of what recipients acknowledged they report having used.",
                "受助方报告已使用的数量占其签收数量的多少。",
            ),
            Self::ExpenseShare => spec(
                S::Spending,
                Info,
                "The charity's own expenses as a share of what it received; money spent buying goods is not counted as its own cost.",
                "机构自身支出占其接收款物的比例；用于采购物资的资金不计为机构自身支出。",
            ),
            Self::CostRatioExceeded => spec(
                S::Spending,
                Warning,
                "A campaign's own expenses are above its cost limit (cost_limit_percent) of what it disbursed plus its expenses.",
                "某募捐活动的自身支出超过其成本上限（cost_limit_percent，占已拨付加支出的比例）。",
            ),
            Self::ExpenseShareHigh => spec(
                S::Spending,
                Warning,
                "The charity's own expenses are above 10% of what it received.",
                "机构自身支出超过其接收款物的10%。",
            ),
            Self::NoBankStatement => spec(
                S::Bank,
                Info,
                "No bank statement has been uploaded, so money receipts and disbursements are not compared with the bank.",
                "尚未上传银行对账单，资金收支未与银行记录核对。",
            ),
            Self::BankMatched => spec(
                S::Bank,
                Info,
                "How many bank lines match a ledger entry, by reference or by amount and date.",
                "有多少条银行流水与账本条目相符（按参考号，或按金额和日期）。",
            ),
            Self::BankAmountMismatch => spec(
                S::Bank,
                Warning,
                "A bank line matches a ledger entry but shows a different amount.",
                "一条银行流水与账本条目对应，但金额不同。",
            ),
            Self::EntryWithoutBankLine => spec(
                S::Bank,
                Warning,
                "A money receipt or disbursement has no bank line, though an uploaded statement covers its date.",
                "一笔资金收入或拨付没有对应的银行流水，而已上传的对账单覆盖了该日期。",
            ),
            Self::BankLineWithoutEntry => spec(
                S::Bank,
                Warning,
                "A bank line matches no receipt or disbursement in the log.",
                "一条银行流水在日志中找不到对应的收入或拨付。",
            ),
            Self::LateDisclosure => spec(
                S::Disclosure,
                Warning,
                "Entries became public later after they happened than the disclosure deadline allows.",
                "有条目在发生后超过公开期限才公开。",
            ),
            Self::Correction => spec(
                S::Disclosure,
                Warning,
                "An entry was corrected (voided, possibly replaced), for the reason given.",
                "某条目被更正（作废，可能被替换），并附有理由。",
            ),
            Self::CorrectionWithImpossibleDate => spec(
                S::Disclosure,
                Violation,
                "A correction or its replacement carries a date that cannot be right, such as one before the entry it corrects.",
                "更正或其替换条目的日期不可能成立，例如早于被更正的条目。",
            ),
            Self::DisclosureOverdue => spec(
                S::Disclosure,
                Warning,
                "A calendar quarter had entries, but no periodic disclosure (disclosure.published) covering it was made within 30 days of its end.",
                "某个季度有记账条目，但在季度结束后30天内没有发布涵盖该季度的定期信息公开（disclosure.published）。",
            ),
            Self::ImpossibleDate => spec(
                S::Disclosure,
                Violation,
                "An entry is dated before something it depends on, such as before the donation it draws from was received.",
                "某条目的日期早于其所依赖的事件，例如早于其动用的捐赠到账之时。",
            ),
            Self::DisclosureTimely => spec(
                S::Disclosure,
                Info,
                "Every entry became public within its deadline, nothing was corrected and no date is impossible.",
                "所有条目都在期限内公开，没有更正，也没有不可能的日期。",
            ),
            Self::CampaignWithoutRecordNumber => spec(
                S::Fundraising,
                Violation,
                "A campaign raises money from the public without a fundraising-plan record number.",
                "一个项目向公众募捐，却没有募捐方案备案号。",
            ),
            Self::UnqualifiedPublicFundraising => spec(
                S::Fundraising,
                Violation,
                "The organisation raises money from the public, or through an online platform, without being qualified for public fundraising.",
                "机构不具备公开募捐资格，却向公众或通过网络平台募捐。",
            ),
            Self::ReceiptWithoutRecordNumber => spec(
                S::Fundraising,
                Violation,
                "A donation was raised from the public for a campaign that has no fundraising-plan record number.",
                "一笔捐赠是为没有募捐方案备案号的项目向公众募得的。",
            ),
            Self::ReceiptOutsideCampaign => spec(
                S::Fundraising,
                Warning,
                "A donation is dated outside its campaign's start and end dates.",
                "一笔捐赠的日期在其项目的起止日期之外。",
            ),
            Self::ReceiptReusedAcrossChannels => spec(
                S::Fundraising,
                Warning,
                "The same receipt number is used by donations received through different channels.",
                "同一收据号被经由不同渠道收到的捐赠重复使用。",
            ),
            Self::ReferenceOnOtherBooks => spec(
                S::Fundraising,
                Warning,
                "A receipt number or disbursement reference also appears on another organisation's books, so the same money may be claimed twice.",
                "某收据号或拨付参考号也出现在另一机构的账目中，同一笔钱可能被重复申报。",
            ),
            Self::RecipientNameDuplicate => spec(
                S::Fundraising,
                Warning,
                "A recipient the organisation registered or gave to has exactly the name of a recipient registered before it, so goods may be going to a lookalike of a real hospital or charity.",
                "机构登记或捐赠的一个受助方与此前已登记的受助方名称完全相同，物资可能流向冒用真实医院或慈善组织名义的受助方。",
            ),
            Self::NoFraudSignal => spec(
                S::Fundraising,
                Info,
                "No fundraising fraud signal was found.",
                "未发现募捐欺诈迹象。",
            ),
            Self::PriorityShare => spec(
                S::Priority,
                Info,
                "The share of undesignated money or goods disbursed that went to priority regions.",
                "已拨付的非定向款物中流向重点地区的比例。",
            ),
            Self::AllocationBypassedNeed => spec(
                S::Needs,
                Warning,
                "Goods were allocated to a recipient that had no open need for them while a recipient in a priority region had an open critical or high-urgency need for the same goods; it is a violation when a designated hospital was passed over for a private one.",
                "物资分配给了并无相应需求的受助方，而重点地区另有受助方对同类物资的紧急或特急需求尚未满足；若被绕过的是定点医院而收到物资的是民营医院，则为违规。",
            ),
            Self::NeedUnmetWhileStockHeld => spec(
                S::Needs,
                Warning,
                "A critical need stayed open more than 24 hours while the organisation held matching goods it had not allocated.",
                "一项特急需求发布超过24小时仍未满足，而该机构同时持有可以调拨的同类未分配物资。",
            ),
            Self::TransferNotRecorded => spec(
                S::Transfers,
                Warning,
                "A disbursement to a charity on Givetrail was not recorded as received by that charity within the disclosure deadline.",
                "拨付给平台上另一慈善组织的款物，接收方未在信息公开时限内登记接收。",
            ),
            Self::TransferQuantityDiffers => spec(
                S::Transfers,
                Warning,
                "The receiving charity recorded less of a disbursement than was sent to it.",
                "接收方登记的接收数量少于拨付方实际拨付的数量。",
            ),
            Self::TransferDesignationChanged => spec(
                S::Transfers,
                Info,
                "The receiving charity recorded a disbursement without the designation it carried, citing the donor's consent.",
                "接收方登记接收时未保留原有的定向要求，并注明了捐赠人的同意。",
            ),
            Self::ProcurementPriceOutlier => spec(
                S::Procurement,
                Warning,
                "A purchase paid more than 1.5 times the median unit price that organisations on Givetrail paid for the same goods within 14 days.",
                "一笔采购的单价超过14天内平台各机构采购同类物资单价中位数的1.5倍。",
            ),
            Self::Complaint => spec(
                S::Complaints,
                Warning,
                "Someone complained about the organisation; an open complaint is a warning and a closed one is for the record.",
                "有人投诉该机构；未办结的投诉为警告，已办结的仅作记录。",
            ),
        }
    }
}

/// One entry of the catalogue, as `GET /api/v1/finding_kinds` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FindingKindInfo {
    /// The wire name.
    pub kind: FindingKind,
    /// The section its findings belong to.
    pub section: Section,
    /// Its usual severity.
    pub severity: Severity,
    /// What it means, in English.
    pub en: &'static str,
    /// What it means, in Chinese.
    pub zh: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reconciliation::sections::spending::EXPENSE_SHARE_WARNING_PERCENT;
    use std::collections::BTreeSet;

    /// The variant names the schema derive sees, independently of [`FindingKind::ALL`].
    fn schema_names() -> BTreeSet<String> {
        let schema = <FindingKind as utoipa::PartialSchema>::schema();
        let json = serde_json::to_value(schema).unwrap_or_default();
        json["enum"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    fn every_kind_is_listed_exactly_once() {
        let names: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
        let unique: BTreeSet<String> = names.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(unique.len(), names.len(), "a kind is listed twice in ALL");
        let variants = schema_names();
        assert!(!variants.is_empty(), "the schema lists the variants");
        assert_eq!(unique, variants, "ALL and the enum's variants differ");
    }

    #[test]
    fn every_kind_has_sentences() {
        for k in FindingKind::ALL {
            for text in [k.describe_en(), k.describe_zh()] {
                assert!(!text.trim().is_empty(), "{k:?} has an empty sentence");
            }
            assert!(
                k.describe_en().ends_with('.'),
                "{k:?}: one English sentence"
            );
            assert!(
                k.describe_zh().ends_with('。'),
                "{k:?}: one Chinese sentence"
            );
        }
    }

    #[test]
    fn the_wire_name_round_trips() {
        for k in FindingKind::ALL {
            let json = serde_json::to_value(k).unwrap_or_default();
            assert_eq!(json, serde_json::json!(k.as_str()), "{k:?}");
            let back: Result<FindingKind, _> = serde_json::from_value(json);
            assert_eq!(back.ok(), Some(k));
            assert_eq!(FindingKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(FindingKind::parse("no_such_kind"), None);
    }

    #[test]
    fn the_catalogue_follows_report_order() {
        let sections: Vec<Section> = FindingKind::catalogue().iter().map(|i| i.section).collect();
        let mut sorted = sections.clone();
        sorted.sort();
        assert_eq!(sections, sorted);
    }

    #[test]
    fn the_expense_sentence_names_the_signal() {
        let share = format!("{EXPENSE_SHARE_WARNING_PERCENT}%");
        assert!(FindingKind::ExpenseShareHigh.describe_en().contains(&share));
        assert!(FindingKind::ExpenseShareHigh.describe_zh().contains(&share));
    }
}
