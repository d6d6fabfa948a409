"""All models, imported here so metadata and Alembic see every table."""

from app.models.backfill import BACKFILL_MODES, Backfill
from app.models.billing import BillingSubscription, UsageCharge
from app.models.dashboard import DashboardDay, DashboardDayCustomers, DashboardRollup
from app.models.engagement import Message, SurveyResponse
from app.models.experiment import Experiment, ExperimentAssignment
from app.models.flow import FlowActionRun, FlowTrigger
from app.models.imports import IMPORT_STATES, ImportChunk, ImportedRow, ImportRun
from app.models.ledger import LEDGER_KINDS, LedgerEntry
from app.models.member import Member, TierChange
from app.models.order import Order, OrderRefund
from app.models.referral import Referral
from app.models.review import PurchasedProduct, Review
from app.models.reward import Redemption, Reward
from app.models.rollup import CohortCell, HoldoutDay, HoldoutDayOffset, InsightRollup
from app.models.shop import SettingsVersion, Shop
from app.models.webhook_event import RefusedWebhook, WebhookEvent

__all__ = [
    "BACKFILL_MODES", "IMPORT_STATES", "LEDGER_KINDS", "Backfill", "BillingSubscription",
    "CohortCell", "DashboardDay", "DashboardDayCustomers", "DashboardRollup", "Experiment",
    "ExperimentAssignment", "FlowActionRun", "FlowTrigger", "HoldoutDay", "HoldoutDayOffset",
    "ImportChunk", "ImportRun", "ImportedRow", "InsightRollup", "LedgerEntry", "Member",
    "Message", "Order", "OrderRefund",
    "PurchasedProduct", "Redemption", "Referral", "RefusedWebhook", "Review", "Reward",
    "SettingsVersion", "Shop", "SurveyResponse", "TierChange", "UsageCharge", "WebhookEvent",
]
