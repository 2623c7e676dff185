"""Typed tool inputs: one pydantic model per operation, with enums, formats and bounds.

Arguments are snake_case in every tool (``order_id``, ``invoice_value``): one naming style,
whatever VTEX calls them. VTEX's own name for a field is its name in camelCase, or the ``Wire``
marker's; a dump with the ``WIRE`` context (``model_dump(context=WIRE)``) uses VTEX's names, and
the plain dump keeps the tool's.

Each field says where it goes on the wire with a marker in its ``Annotated`` metadata:
``PATH`` (a path template variable), ``Query("wire_name")`` (a query parameter), ``LOCAL`` (a
tool option that never reaches VTEX, such as ``view``); an unmarked field is a JSON body field.
``registry.build_request`` reads the markers, so no operation needs request-building code of
its own. Models forbid unknown fields: a typo'd argument is refused instead of ignored.

Field descriptions are short on purpose: the whole tools/list is an LLM's context budget.
Money is always integer cents (VTEX's unit); the descriptions say so where it matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, Self, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import to_jsonable_python

from .arguments import is_email, parse_date_time
from .sdk import ArgModel

__all__ = ["FEED_STATUSES", "KEEP_NULL", "LOCAL", "ORDER_STATUSES", "PATH", "Args", "Query", "as_given"]


@dataclass(frozen=True)
class Query:
    """Marker: this field is the query parameter ``name`` (None: the field's own name)."""

    name: str | None = None


@dataclass(frozen=True)
class _Where:
    where: str


@dataclass(frozen=True)
class Wire:
    """Marker: VTEX spells this field ``name`` (by default, the field's name in camelCase)."""

    name: str


# The serialization context that asks for VTEX's field names (``model_dump(context=WIRE)``).
WIRE = {"wire": True}


def wire_name(model: type[BaseModel], field: str) -> str:
    """What VTEX calls ``field`` of ``model``: its ``Wire`` marker, else its alias, else camelCase."""
    info = model.model_fields[field]
    marker = next((m for m in info.metadata if isinstance(m, Wire)), None)
    if marker is not None:
        return marker.name
    return info.alias or to_camel(field)


def _wire_names(self: BaseModel, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
    data = handler(self)
    if not (isinstance(info.context, dict) and info.context.get("wire")) or not isinstance(data, dict):
        return data
    model = type(self)
    names = {info_.alias or name: wire_name(model, name) for name, info_ in model.model_fields.items()}
    return {names.get(key, key): value for key, value in data.items()}


PATH = _Where("path")
LOCAL = _Where("local")
# Body fields VTEX requires even when null: sent as null instead of being omitted.
KEEP_NULL = _Where("keep-null")


def _rfc3339(value: Any) -> Any:
    # The schema promises an RFC 3339 string with a zone (arguments.py checks it first); pydantic
    # alone would also read a number as a Unix timestamp and a naive time as local.
    if isinstance(value, str):
        return parse_date_time(value)
    raise ValueError("must be an RFC 3339 date-time with a zone, e.g. 2026-11-23T10:00:00-03:00")


DateTime = Annotated[datetime, BeforeValidator(_rfc3339)]


# VTEX wants some amounts in cents as a *string* (invoiceValue); the tool takes an integer.
CentsString = Annotated[int, PlainSerializer(str, return_type=str, when_used="json")]


class Args(ArgModel):
    """Base of every tool input model (the SDK validates tool calls with its ArgModel)."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    _wire = model_serializer(mode="wrap")(_wire_names)

    @classmethod
    def validated(cls, **values: Any) -> Self:
        """An instance from values already validated by this very model (the SDK validated the
        call's arguments before the handler runs): built without validating them again."""
        return cast(Self, cls.model_construct(**values))


def as_given(args: BaseModel) -> dict[str, Any]:
    """The arguments in the tool's own shape, JSON-safe: what confirm_write must get back and
    what an approval question shows. (The JSON dump has VTEX's values: item lists wrapped in
    {"items": ...}, cents as strings; with the ``WIRE`` context, VTEX's names too.)"""
    return to_jsonable_python(args.model_dump(mode="python", by_alias=True, exclude_none=True))


class Body(BaseModel):
    """Base of nested body objects."""

    model_config = ConfigDict(extra="forbid")

    _wire = model_serializer(mode="wrap")(_wire_names)


# --- shared field types -------------------------------------------------------------------

# A group id, "-", then two digits: v502556llux-01, or with a seller prefix as VTEX's own listing
# shows them, SCP-880102018018-01. Only Get order also takes the sequence number (seq501456);
# VTEX documents it for no other endpoint.
ORDER_ID_PATTERN = r"^[A-Za-z0-9_-]+-[0-9]{2}$"
OrderId = Annotated[str, PATH, Field(pattern=ORDER_ID_PATTERN)]
OrderIdOrSequence = Annotated[str, PATH, Field(pattern=r"^(seq[0-9]+|[A-Za-z0-9_-]+-[0-9]{2})$")]
OrderGroup = Annotated[str, PATH, Field(pattern=r"^[A-Za-z0-9_-]+$")]  # order_id without -NN
# Ids that go into a URL path may contain dots but must not start with one: "." and ".." would be
# dot segments, which quote() leaves alone and the HTTP client resolves, so a write approved for
# .../payments/../payment-notification would really be sent to .../payment-notification.
Ident = Annotated[str, PATH, Field(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")]
# Invoice numbers may also hold "/" (quote() sends it as %2F, inside the one path segment).
_INVOICE_NUMBER = Field(pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_./-]*$")
InvoiceNumber = Annotated[str, PATH, _INVOICE_NUMBER]
Cents = Annotated[int, Field(ge=0, description="cents")]
View = Annotated[Literal["compact", "full"], LOCAL]  # full: VTEX's whole document
Reason = Annotated[str, Field(min_length=1)]

# ListOrders f_status accepts these seven (spec §3); other statuses exist in feeds.
ORDER_STATUSES = (
    "waiting-for-sellers-confirmation",
    "payment-pending",
    "payment-approved",
    "ready-for-handling",
    "handling",
    "invoiced",
    "canceled",
)
# Feed v3 / hook filter.status: the 30 values the spec lists, in spec order. VTEX's own hook
# example filters on a 31st, "order-completed", and VTEX takes any status: the tools accept any
# kebab-case word (FeedStatus), and the approval question flags words VTEX never documents.
FEED_STATUSES = (
    "order-created", "on-order-completed", "on-order-completed-ffm", "payment-pending",
    "waiting-for-order-authorization", "approve-payment", "payment-approved", "request-cancel",
    "waiting-for-seller-decision", "waiting-ffmt-authorization", "waiting-for-authorization",
    "waiting-for-manual-authorization", "authorize-fulfillment", "order-create-error",
    "order-creation-error", "window-to-cancel", "window-to-change-seller", "waiting-for-mkt-authorization",
    "waiting-seller-handling", "ready-for-handling", "start-handling", "handling",
    "invoice-after-cancellation-deny", "order-accepted", "invoice", "invoiced", "replaced",
    "cancellation-requested", "cancel", "canceled",
)  # fmt: skip
OrderStatus = Literal[ORDER_STATUSES]  # type: ignore[valid-type]
FeedStatus = Annotated[str, Field(pattern=r"^[a-z]+(-[a-z]+)*$")]


# --- orders ----------------------------------------------------------------------------------


class GetOrder(Args):
    order_id: OrderIdOrSequence
    view: View = "compact"


class GetOrderGroup(Args):
    order_group: OrderGroup
    view: View = "compact"


class ListOrders(Args):
    # whole_range walks the range in creation order (ranges.py): any other order_by is refused,
    # in the advertised schema (if/then) as in the model.
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"required": ["whole_range"]},
            "then": {"properties": {"order_by": {"pattern": "^creationDate,"}}},
        }
    )

    q: Annotated[str | None, Query(), Field(pattern=r"^[^+]*$", description="id, email, document or name")] = None
    status: Annotated[OrderStatus | None, Query("f_status")] = None
    created_from: Annotated[DateTime | None, LOCAL] = None
    created_to: Annotated[DateTime | None, LOCAL] = None
    sales_channel: Annotated[str | None, Query("salesChannelId"), Field(max_length=20, description="id, e.g. 1")] = None
    # One of 5 fields, then asc or desc: a pattern says the 10 values in fewer tokens than an enum.
    order_by: Annotated[
        str, Query("orderBy"), Field(pattern=r"^(creationDate|orderId|totalValue|items|origin),(asc|desc)$")
    ] = "creationDate,desc"
    page: Annotated[int, Query(), Field(ge=1, le=30)] = 1
    per_page: Annotated[int, Query(), Field(ge=1, le=100)] = 15
    all_pages: Annotated[bool, LOCAL, Field(description="fetch every page (max 30)")] = False
    whole_range: Annotated[
        Literal["counts", "rows"] | None,
        LOCAL,
        Field(description="every order created in the range, past 30 pages: counts and rows, or rows"),
    ] = None

    @field_validator("whole_range")
    @classmethod
    def _range_order(cls, v: str | None, info: Any) -> str | None:
        # The schema's if/then, for callers that reach the model without the schema.
        if v is not None and not str(info.data.get("order_by", "creationDate,")).startswith("creationDate,"):
            raise ValueError("needs order_by creationDate,desc or creationDate,asc")
        return v


class OrderOnly(Args):
    order_id: OrderId


class CancelOrder(Args):
    order_id: OrderId
    reason: Reason


class ChangeItem(Body):
    id: str = Field(min_length=1, description="SKU id")
    quantity: int = Field(ge=1)
    price: Cents


class RegisterChanges(Args):
    order_id: OrderId
    request_id: str = Field(min_length=1, description="idempotency key")
    reason: Reason
    discount_value: Cents = 0
    increment_value: Cents = 0
    items_removed: list[ChangeItem] = Field(default_factory=list)
    items_added: list[ChangeItem] = Field(default_factory=list)


class AddInteraction(Args):
    order_id: OrderId
    source: str = Field(min_length=1)
    message: str = Field(min_length=1)


# --- invoice / tracking / payment ------------------------------------------------------------


class InvoiceItem(Body):
    id: str = Field(min_length=1, description="SKU id")
    quantity: int = Field(ge=1)
    price: Cents = Field(description="unit price, cents")
    description: str | None = Field(None)


class InvoiceOrder(Args):
    order_id: OrderId
    type: Literal["Output", "Input"] = Field(description="Output = sale, Input = return")
    # A body field here, under the path rule all the same: the tracking tools must reach the invoice.
    invoice_number: Annotated[str, _INVOICE_NUMBER]
    invoice_value: CentsString = Field(ge=1, description="cents")
    issuance_date: DateTime
    items: list[InvoiceItem] = Field(min_length=1)
    invoice_key: str | None = Field(None)
    invoice_url: str | None = Field(None)
    courier: str | None = Field(None)
    tracking_number: str | None = Field(None)
    tracking_url: str | None = Field(None)


class InvoiceTracking(Args):
    order_id: OrderId
    invoice_number: InvoiceNumber
    tracking_number: str = Field(min_length=1)
    courier: str = Field(min_length=1)
    tracking_url: Annotated[str | None, KEEP_NULL] = Field(None)
    dispatched_date: Annotated[DateTime | None, KEEP_NULL] = None


class TrackingEvent(Body):
    city: str
    state: str
    description: str
    date: DateTime


class TrackingStatus(Args):
    order_id: OrderId
    invoice_number: InvoiceNumber
    is_delivered: bool
    delivered_date: Annotated[str | None, KEEP_NULL] = Field(
        None, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}$"
    )
    events: list[TrackingEvent] = Field(default_factory=list)


class PaymentNotification(Args):
    order_id: OrderId
    payment_id: Ident


# --- feed / hook -----------------------------------------------------------------------------


# VTEX's filter is {"type": "FromWorkflow", "status": [...]} or {"type": "FromOrders",
# "expression": ...}; it reads only the field of its type, so a filter carrying both would be
# approved as one thing and act as another. The tool takes exactly one of the two fields and
# names the type itself: the schema says "one of" in fewer words than two tagged shapes, and a
# model needs no VTEX vocabulary to pick one.
def _filter_wire(self: FeedFilter, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
    data = _wire_names(self, handler, info)
    if isinstance(info.context, dict) and info.context.get("wire") and isinstance(data, dict):
        return {"type": self.type, **data}
    return data


class FeedFilter(Body):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"oneOf": [{"required": ["status"]}, {"required": ["expression"]}]}
    )

    status: list[FeedStatus] | None = Field(None, min_length=1, description="e.g. payment-approved, invoiced")
    # Something other than blanks (explicit ASCII blanks: the schema's and Python's \s differ).
    expression: str | None = Field(None, pattern=r"[^ \t\r\n]", description="JSONata")
    disable_single_fire: bool = False

    _wire = model_serializer(mode="wrap")(_filter_wire)

    @model_validator(mode="after")
    def _one_condition(self) -> Self:
        if (self.status is None) == (self.expression is None):
            raise ValueError("give exactly one of status (statuses) or expression (JSONata)")
        return self

    @property
    def type(self) -> Literal["FromWorkflow", "FromOrders"]:
        return "FromWorkflow" if self.status is not None else "FromOrders"


class FeedQueue(Body):
    visibility_timeout_in_seconds: int = Field(250, ge=0, le=43200)
    message_retention_period_in_seconds: Annotated[int, Wire("MessageRetentionPeriodInSeconds")] = Field(
        345600, ge=60, le=1209600
    )


class FeedConfig(Args):
    filter: FeedFilter
    queue: FeedQueue = Field(default_factory=lambda: FeedQueue())


class NoArgs(Args):
    pass


class FeedItems(Args):
    max_lot: Annotated[int, Query("maxlot"), Field(ge=1, le=10)] = 10


class FeedV2Status(Args):
    max_lot: Annotated[int, Query("maxLot"), Field(ge=1, le=10)] = 10


class CommitFeed(Args):
    handles: list[str] = Field(min_length=1, max_length=10)


class Hook(Body):
    url: str = Field(pattern=r"^https://", description="https only")
    headers: dict[str, str] = Field(default_factory=dict)


class HookConfig(Args):
    filter: FeedFilter
    hook: Hook


class JsonataTest(Args):
    expression: Annotated[str, Wire("Expression")] = Field(min_length=1)
    document: Annotated[str, Wire("Document")] = Field(min_length=2, description="JSON document as a string")


# --- user orders -----------------------------------------------------------------------------


def _email(value: str) -> str:
    if not is_email(value):
        raise ValueError("must be an e-mail address")
    return value


Email = Annotated[str, Query("clientEmail"), AfterValidator(_email), Field(json_schema_extra={"format": "email"})]


class UserOrders(Args):
    client_email: Email
    page: Annotated[int, Query(), Field(ge=1, le=30)] = 1
    per_page: Annotated[int, Query(), Field(ge=1, le=100)] = 15


class UserOrder(Args):
    order_id: OrderId
    client_email: Email
    view: View = "compact"


# --- change seller ---------------------------------------------------------------------------


class ChangeSellerWindow(Args):
    waiting_time: int = Field(ge=0, le=90, description="days")


# --- order modifications (/api/order-system) -------------------------------------------------

# The order-system endpoints call the order "changeOrderId"; the tools call it order_id, as everywhere.
ChangeOrderId = Annotated[str, PATH, Wire("changeOrderId"), Field(pattern=ORDER_ID_PATTERN)]
ChangeRequestId = Annotated[str, PATH, Field(pattern=r"^[A-Za-z0-9_-]+$")]


class ModItem(Body):
    id: str = Field(min_length=1, description="SKU id")
    quantity: int = Field(ge=1)
    unique_id: str | None = Field(None, description="if the SKU appears twice")


def _items_object(items: list[ModItem], info: SerializationInfo) -> dict[str, Any]:
    return {"items": [i.model_dump(mode="json", exclude_none=True, context=info.context) for i in items]}


# VTEX nests every item list in an object ({"add": {"items": [...]}}); tools take the plain list,
# which is all a model needs to write, and the serializer puts VTEX's wrapper back.
ModItems = Annotated[
    list[ModItem],
    Field(min_length=1),
    PlainSerializer(_items_object, return_type=dict, when_used="json"),
]


class Replace(Body):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: ModItems = Field(alias="from")
    to: ModItems


# Settings carry no defaults: only what the caller gives is sent. A default would go out as a
# value, so {"rolloutConfiguration": {"enableMyOrders": ...}} would also switch enableApi off for
# the whole account (and a request's override would turn every recalculation off).
class PaymentConfiguration(Body):
    custom_payment_systems_allowed: list[str] | None = None


class Workspaces(Body):
    enabled_workspaces: list[str] | None = None


class RolloutConfiguration(Body):
    enable_api: bool | None = None
    enable_admin_orders: Workspaces | None = None
    enable_my_orders: Workspaces | None = None


class PipelineConfiguration(Body):
    enable_tax_hub_recalculation: bool | None = None
    compensate_shipping_changes: bool | None = None
    enable_promotion_recalculation: bool | None = None
    enable_native_tax_recalculation: bool | None = None


class CreateModification(Args):
    order_id: ChangeOrderId
    reason: Reason = Field(description="shown to the shopper")
    add: ModItems | None = None
    remove: ModItems | None = None
    replace: list[Replace] | None = Field(None)


class PreviewModification(Args):
    order_id: ChangeOrderId
    reason: Reason
    add: ModItems | None = None
    remove: ModItems | None = None
    replace: list[Replace] = Field(default_factory=list)


class ModificationRef(Args):
    order_id: ChangeOrderId
    change_request_id: ChangeRequestId


class ModificationHistory(Args):
    order_id: ChangeOrderId


class RetryModification(Args):
    order_id: ChangeOrderId
    change_request_id: ChangeRequestId
    reason: Reason


class CancelModification(Args):
    order_id: ChangeOrderId
    change_request_id: ChangeRequestId
    reason: Reason = Field(description="not shown to the shopper")


class UpdateModSettings(Args):
    payment_configuration: PaymentConfiguration | None = None
    rollout_configuration: RolloutConfiguration | None = None
    pipeline_configuration: PipelineConfiguration | None = None


ApprovalId = Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]  # from the approval_required answer


class CheckApproval(Args):
    approval_id: ApprovalId


class DecideApproval(Args):
    approval_id: ApprovalId
    approve: bool


class ConfirmWrite(Args):
    tool: str = Field(pattern=r"^[a-z_]{3,64}$", description="the write tool to run")
    arguments: dict[str, Any] = Field(description="exactly as in the approval request")
    token: str = Field(min_length=20)
