"""Order modifications (VTEX "order-system" change requests) in the sandbox: #23, #29-#36.

What VTEX states (OpenAPI description, quoted in docs/VTEX_ORDERS_API.md section 5):

* an order can be modified only in `handling`, `waiting-for-fulfillment` or "ready for invoicing"
  (the status id is `ready-for-invoicing`), and "not ... when the payment transaction is complete";
  the OMS "considers that you still can modify the order's transactional value, as long as its status
  in Transaction Details is not `Finished`";
* the account setting `rolloutConfiguration.enableApi` must be `true` (VTEX default `false`; the
  seeded account saved `true`, see `settings`);
* "Increasing the price of an order is allowed only when the order was paid by credit card, payable
  notes, cash, or credit control";
* a change request's status "progresses in the following order: waiting-acknowledgement,
  waiting-confirmation, done, canceled"; retry re-runs a request that "was not completely processed";
  cancel is for a request stopped on error, impossible once done, and afterwards "the
  changeRequestId will no longer be valid"; preview is a dry run.

What the sandbox infers, and why, is written next to the code that does it:

* `rules` - which orders may be modified: the allowed statuses, the payment groups that may pay a
  price increase, and when a payment transaction counts as settled (`payment_finished`);
* `settings` - the account settings (defaults, and a request's override merged over them);
* `parsing` - validation of change bodies and settings; `add` / `remove` folded into `replace`;
* `change_request` - one change request's record and its statuses;
* `planning` - what a change does to an order's items, logistics lines and totals (pure);
* `rendering` - response bodies, shaped to the intersection of the four response schemas;
* `summary` - the order's change summary (#23);
* `service` - `ModificationsService`: the clock-driven state machine, stop on error, applying a
  done change to the order;
* `endpoints` - `routes()`, the HTTP routes over one service.

Error codes (OMS envelope, sandbox-defined; VTEX documents none for these routes):
ORDMOD001 400 account query param; ORDMOD002 400 invalid body, or a change that would make the
order value negative (the register-changes rule; refused synchronously like other structural
problems); ORDMOD003 403 enableApi false; ORDMOD004 409 order status; ORDMOD005 409 payment
finished; ORDMOD006 404 change request unknown; ORDMOD007 409 retry/cancel not allowed in the
request's state; ORDMOD008 409 another modification in progress; ORDMOD009 400 new SKU on a
multi-address order; ORDMOD010 400 SKU not in the catalog.
Stop-on-error codes (in `error` / `logs`): ORDMOD101 price increase not allowed for the payment;
ORDMOD102 order no longer modifiable; ORDMOD103 items no longer match the order.
"""

from .change_request import CANCELED, DONE, WAITING_ACK, WAITING_CONF, ChangeRequest
from .endpoints import routes
from .parsing import parse_change_body, parse_settings
from .planning import Plan
from .rendering import TOTAL_NAMES
from .rules import ALLOWED_STATUSES, PRICE_INCREASE_GROUPS, payment_finished
from .service import ACK_AFTER, DONE_AFTER, ModificationsService
from .settings import SEEDED_ACCOUNT_SETTINGS, default_settings, merge_settings

__all__ = [
    "ACK_AFTER",
    "ALLOWED_STATUSES",
    "CANCELED",
    "DONE",
    "DONE_AFTER",
    "PRICE_INCREASE_GROUPS",
    "SEEDED_ACCOUNT_SETTINGS",
    "TOTAL_NAMES",
    "WAITING_ACK",
    "WAITING_CONF",
    "ChangeRequest",
    "ModificationsService",
    "Plan",
    "default_settings",
    "merge_settings",
    "parse_change_body",
    "parse_settings",
    "payment_finished",
    "routes",
]
