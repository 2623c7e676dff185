"""Deterministic generation of the sandbox's orders from a seed and the clock.

Mechanism: VTEX's canonical example order (data/example_order.json) is the template. Every
generated order is a fresh `json.loads` of that template (cheap, no deepcopy), completed with the
order-document keys the spec lists but the 2019 example lacks (cancelReason, cancellationData,
taxData, ...), then overwritten field by field from small in-code pools (customers, addresses,
SKUs, payment systems, sellers, affiliates). All randomness comes from `store.rng`, which the Store
reseeds before calling us, and all dates are offsets from `store.clock.now()`, so one seed and one
frozen clock give byte-identical documents.

The mix covers what a store sees: every workflow status the list filter and the modification
rules mention, own-store / affiliate (external marketplace) / Fulfillment orders, multi-seller
order groups (`<group>-01`, `-02`, ...), credit cards, Boleto Bancário, gift cards and Pix,
multi-item orders with discounts, partial and full invoices, return (Input) invoices, incomplete
orders, conversations. The example order itself (v502556llux-01) is stored as VTEX published it,
with one correction: the page it was copied from had its two e-mail addresses replaced by an
e-mail obfuscator's "[email protected]", which is not an address; data/example_order.json carries
the ones VTEX's OpenAPI description gives for the same order (`rodrigo.cunha@vtex.com.br` and the
`...@ct.vtex.com.br` follow-up alias).

Sandbox-private facts go to `store.meta[orderId]` (conversation messages): they are not part of
VTEX's order document.
"""

from __future__ import annotations

import gc
import json
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from .orderbook import Orders
from .state import STATUS_DESCRIPTIONS

if TYPE_CHECKING:
    from .state import Store

EXAMPLE_ORDER_ID = "v502556llux-01"

# ---------------------------------------------------------------------------------------------
# Small realistic pools (Brazilian retail).
FIRST_NAMES = [
    "Ana",
    "Bruno",
    "Camila",
    "Diego",
    "Eduarda",
    "Felipe",
    "Gabriela",
    "Henrique",
    "Isabela",
    "João",
    "Larissa",
    "Lucas",
    "Mariana",
    "Mateus",
    "Natália",
    "Paulo",
    "Rafaela",
    "Rodrigo",
    "Sofia",
    "Thiago",
    "Vitória",
    "Gustavo",
    "Beatriz",
    "Carlos",
    "Juliana",
    "Pedro",
]
LAST_NAMES = [
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Rodrigues",
    "Ferreira",
    "Alves",
    "Pereira",
    "Lima",
    "Gomes",
    "Costa",
    "Ribeiro",
    "Martins",
    "Carvalho",
    "Almeida",
    "Lopes",
    "Soares",
    "Fernandes",
    "Vieira",
    "Barbosa",
    "Rocha",
    "Dias",
    "Nascimento",
    "Cunha",
]
EMAIL_DOMAINS = ["gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br", "terra.com.br"]
# (city, state, postal code prefix, street, neighborhood, area code)
PLACES = [
    ("São Paulo", "SP", "01310", "Avenida Paulista", "Bela Vista", "11"),
    ("São Paulo", "SP", "05422", "Rua dos Pinheiros", "Pinheiros", "11"),
    ("Rio de Janeiro", "RJ", "22250", "Praia de Botafogo", "Botafogo", "21"),
    ("Rio de Janeiro", "RJ", "22070", "Avenida Atlântica", "Copacabana", "21"),
    ("Belo Horizonte", "MG", "30130", "Avenida Afonso Pena", "Centro", "31"),
    ("Curitiba", "PR", "80420", "Rua XV de Novembro", "Centro", "41"),
    ("Porto Alegre", "RS", "90570", "Rua Padre Chagas", "Moinhos de Vento", "51"),
    ("Salvador", "BA", "40140", "Avenida Sete de Setembro", "Vitória", "71"),
    ("Recife", "PE", "51020", "Avenida Boa Viagem", "Boa Viagem", "81"),
    ("Fortaleza", "CE", "60165", "Avenida Beira Mar", "Meireles", "85"),
    ("Brasília", "DF", "70040", "Eixo Monumental", "Asa Norte", "61"),
    ("Florianópolis", "SC", "88015", "Rua Felipe Schmidt", "Centro", "48"),
    ("Campinas", "SP", "13025", "Rua Barão de Jaguara", "Cambuí", "19"),
    ("Goiânia", "GO", "74110", "Avenida T-10", "Setor Bueno", "62"),
]
# (skuId, productId, name, refId, brand, category path, price in cents)
CATALOG = [
    ("2000101", "1001", "Camiseta Básica Algodão Branca M", "CAM-BAS-BR-M", "Hering", "/1/10/", 4990),
    ("2000102", "1001", "Camiseta Básica Algodão Preta G", "CAM-BAS-PT-G", "Hering", "/1/10/", 4990),
    ("2000201", "1002", "Calça Jeans Slim 42", "CAL-JNS-SL-42", "Levi's", "/1/11/", 22990),
    ("2000301", "1003", "Tênis Corrida Ultraboost 40", "TEN-COR-UB-40", "Adidas", "/2/20/", 79990),
    ("2000302", "1003", "Tênis Corrida Ultraboost 42", "TEN-COR-UB-42", "Adidas", "/2/20/", 79990),
    ("2000401", "1004", "Chinelo Havaianas Top Azul 39/40", "CHI-HAV-AZ-39", "Havaianas", "/2/21/", 3990),
    ("2000501", "1005", "Cafeteira Elétrica Inox 30 Xícaras", "CAF-ELE-INX-30", "Oster", "/3/30/", 18990),
    ("2000601", "1006", "Liquidificador Turbo 1200W", "LIQ-TUR-1200", "Arno", "/3/30/", 25990),
    ("2000701", "1007", "Jogo de Panelas Antiaderente 5 Peças", "PAN-ANT-5P", "Tramontina", "/3/31/", 39990),
    ("2000801", "1008", "Fone de Ouvido Bluetooth JBL Tune", "FON-BT-JBL-T", "JBL", "/4/40/", 29990),
    ("2000901", "1009", "Smartphone Galaxy A55 128GB", "SMA-GAL-A55", "Samsung", "/4/41/", 219900),
    ("2001001", "1010", "Carregador Turbo USB-C 25W", "CAR-USBC-25", "Samsung", "/4/41/", 9990),
    ("2001101", "1011", "Livro Dom Casmurro", "LIV-DOM-CAS", "Penguin", "/5/50/", 2990),
    ("2001201", "1012", "Perfume Malbec 100ml", "PER-MAL-100", "O Boticário", "/6/60/", 18990),
    ("2001301", "1013", "Protetor Solar FPS 50 200ml", "PRO-SOL-50", "La Roche-Posay", "/6/61/", 8990),
    ("2001401", "1014", "Mochila Executiva Notebook 15", "MOC-EXE-15", "Samsonite", "/7/70/", 34990),
    ("2001501", "1015", "Garrafa Térmica 1L Aço Inox", "GAR-TER-1L", "Stanley", "/7/71/", 27990),
    ("2001601", "1016", "Café em Grãos Especial 1kg", "CAF-GRA-1KG", "Orfeu", "/8/80/", 8990),
    ("2001701", "1017", "Bola de Futebol Campo Oficial", "BOL-FUT-OFC", "Nike", "/2/22/", 14990),
    ("2001801", "1018", "Kit Lençol Casal 4 Peças 200 Fios", "LEN-CAS-200", "Santista", "/3/32/", 15990),
]
# (paymentSystem id, name, group)
VISA = ("2", "Visa", "creditCard")
MASTERCARD = ("4", "Mastercard", "creditCard")
BOLETO = ("6", "Boleto Bancário", "bankInvoice")
GIFT_CARD = ("16", "Vale", "giftCard")
PIX = ("125", "Pix", "instantPayment")
# Other sellers of the marketplace (seller "1" is the account itself).
SELLERS = [
    ("1", None),
    ("casaeconforto", "Casa & Conforto"),
    ("esportemax", "Esporte Max"),
    ("techbrasil", "Tech Brasil"),
]
# External marketplaces connected as affiliates: (affiliateId, salesChannel, name).
AFFILIATES = [("MLB", "2", "Mercado Livre"), ("AMZ", "3", "Amazon"), ("MGZ", "4", "Magalu")]
# Orders carry only the sales channel's id (`salesChannel`); its name lives here, the one place the
# sandbox maps ids to names (ListOrders f_salesChannel filters by name). Channel "1" is the store's
# own, named "Main" as in the spec's f_salesChannel example; the others are named after the affiliate.
SALES_CHANNEL_NAMES = {"1": "Main", **{channel: name for _, channel, name in AFFILIATES}}
SLAS = [("Normal", "5bd", "Correios"), ("Expressa", "2bd", "Jadlog"), ("Retirada", "0bd", "Retirada na loja")]
COURIERS = ["Correios", "Jadlog", "Loggi", "Total Express"]

# Status mix: (status, weight). Statuses from the ListOrders f_status enum plus the workflow states
# the modification rules and the feed vocabulary name (window-to-cancel, waiting-for-fulfillment,
# ready-for-invoicing [inference: spelled "ready for invoicing" in the spec prose]).
STATUS_WEIGHTS = [
    ("payment-pending", 8),
    ("payment-approved", 4),
    ("window-to-cancel", 5),
    ("waiting-for-sellers-confirmation", 2),
    ("ready-for-handling", 14),
    ("handling", 14),
    ("waiting-for-fulfillment", 3),
    ("ready-for-invoicing", 2),
    ("invoiced", 34),
    ("canceled", 12),
]
# Statuses where payment has been authorized (authorizedDate is set).
AUTHORIZED = {
    "payment-approved",
    "window-to-cancel",
    "ready-for-handling",
    "handling",
    "waiting-for-fulfillment",
    "ready-for-invoicing",
    "invoiced",
    "waiting-for-sellers-confirmation",
}

# Keys of the order document the spec lists but the 2019 example lacks, with the values an order
# without those features carries.
EXTRA_KEYS: dict[str, Any] = {
    "workflowIsInError": False,
    "cancelReason": None,
    "cancellationData": None,
    "checkedInPickupPointId": None,
    "clientPreferencesData": {"locale": "pt-BR", "optinNewsLetter": False},
    "taxData": None,
    "subscriptionData": None,
    "itemMetadata": {"Items": []},
}


def complete_document(order: dict) -> dict:
    """Add (in place) the order-document keys today's VTEX documents carry and the spec requires in
    the customer order detail (Userorderdetails) but the 2019 example predates, with the values of
    an order that does not use those features. Existing keys are left alone."""
    for key, value in EXTRA_KEYS.items():
        order.setdefault(key, json.loads(json.dumps(value)))
    for item in order.get("items") or []:
        for key, value in (
            ("attachmentOfferings", []),
            ("callCenterOperator", None),
            ("serialNumbers", None),
            ("assemblies", []),
            ("costPrice", item.get("price")),
        ):
            item.setdefault(key, value)
    for seller in order.get("sellers") or []:
        seller.setdefault(
            "fulfillmentEndpoint",
            f"http://fulfillment.vtexcommerce.com.br/api/fulfillment?an={order.get('hostname') or ''}",
        )
    for transaction in (order.get("paymentData") or {}).get("transactions") or []:
        for payment in transaction.get("payments") or []:
            for key in (
                "giftCardProvider",
                "giftCardAsDiscount",
                "koinUrl",
                "accountId",
                "parentAccountId",
                "bankIssuedInvoiceIdentificationNumber",
                "bankIssuedInvoiceIdentificationNumberFormatted",
                "bankIssuedInvoiceBarCodeNumber",
                "bankIssuedInvoiceBarCodeType",
                "billingAddress",
            ):
                payment.setdefault(key, None)
            responses = payment.get("connectorResponses")
            if responses is not None:
                responses.setdefault("Tid", payment.get("tid") or "")
                responses.setdefault("ReturnCode", None)
                responses.setdefault("Message", None)
                responses.setdefault("authId", "")
    shipping = order.get("shippingData") or {}
    for address in [shipping.get("address") or {}, *(shipping.get("selectedAddresses") or [])]:
        address.setdefault("versionId", None)
        address.setdefault("entityId", None)
    for line in shipping.get("logisticsInfo") or []:
        line.setdefault("deliveryChannels", [{"id": line.get("deliveryChannel") or "delivery", "stockBalance": 0}])
        for key in ("versionId", "entityId", "pickupPointId", "transitTime"):
            line.setdefault(key, None)
        for delivery in line.get("deliveryIds") or []:
            delivery.setdefault("accountCarrierName", delivery.get("courierName") or "")
            delivery.setdefault("kitItemDetails", [])
        for sla in line.get("slas") or []:
            sla.setdefault("lockTTL", line.get("lockTTL"))
            sla.setdefault("pickupPointId", None)
            sla.setdefault("transitTime", None)
            sla.setdefault("pickupDistance", 0.0)
    return order


@lru_cache(maxsize=1)
def example_order_text() -> str:
    return resources.files(__package__).joinpath("data/example_order.json").read_text(encoding="utf-8")


def example_order() -> dict:
    """A fresh copy of VTEX's canonical example order."""
    return json.loads(example_order_text())


@lru_cache(maxsize=1)
def _templates() -> tuple[str, str, str, str]:
    """JSON texts of the order, item, logistics line and payment templates (parsed per use)."""
    ex = example_order()
    item = ex["items"][0]
    logistics = ex["shippingData"]["logisticsInfo"][0]
    payment = ex["paymentData"]["transactions"][0]["payments"][0]
    complete_document(ex)  # modern keys in every template (the stored example stays as published)
    base = dict(ex)
    base["items"] = []
    base["shippingData"] = dict(ex["shippingData"], logisticsInfo=[])
    base["paymentData"] = {"transactions": []}
    base["changesAttachment"] = None
    base["totals"] = []
    return json.dumps(base), json.dumps(item), json.dumps(logistics), json.dumps(payment)


def _cpf(rng) -> str:
    digits = [rng.randrange(10) for _ in range(9)]
    for length in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(length + 1, 1, -1), strict=True))
        digits.append((total * 10 % 11) % 10)
    return "".join(map(str, digits))


def _customers(rng, count: int = 80) -> list[dict]:
    people = []
    for n in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        place = rng.choice(PLACES)
        handle = f"{first}.{last}{n}".lower()
        for a, b in (("ã", "a"), ("á", "a"), ("é", "e"), ("í", "i"), ("ó", "o"), ("ç", "c"), ("ú", "u")):
            handle = handle.replace(a, b)
        people.append(
            {
                "firstName": first,
                "lastName": last,
                "email": f"{handle}@{rng.choice(EMAIL_DOMAINS)}",
                "document": _cpf(rng),
                "phone": f"+55{place[5]}9{rng.randrange(10**7, 10**8)}",
                "userProfileId": (
                    f"{rng.getrandbits(32):08x}-{rng.getrandbits(16):04x}-4{rng.getrandbits(12):03x}-"
                    f"a{rng.getrandbits(12):03x}-{rng.getrandbits(48):012x}"
                ),
                "place": place,
                "number": str(rng.randrange(10, 3000)),
                "complement": rng.choice(["", "", f"Apto {rng.randrange(11, 1500)}", "Casa 2", "Bloco B"]),
                "addressId": str(-rng.randrange(10**12, 10**13)),
                "postalCode": f"{place[2]}-{rng.randrange(1000):03d}",
            }
        )
    return people


def _hex(rng, n: int = 32) -> str:
    return ("%0" + str(n) + "X") % rng.getrandbits(4 * n)


def _weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    pick = rng.uniform(0, total)
    for value, weight in pairs:
        pick -= weight
        if pick <= 0:
            return value
    return pairs[-1][0]


# Results of recent generations with a frozen clock, as JSON text: a reset (or a second sandbox
# with the same parameters) parses it instead of rebuilding, which is about twice as fast.
_CACHE: dict[tuple, tuple[str, tuple, int]] = {}
_CACHE_SIZE = 4

# Orders built at start, drawn one after another from the store's seeded rng (the default store's
# 500, identical to what every eval and example names). Past them, orders are planned at start,
# a column at a time (plans.py), and built when first read (orderbook.py): a 20,000-order store
# starts in less than twice the time of this one.
EAGER_ORDERS = 500


def generate_orders(store: Store) -> Orders:
    """`store.order_count` orders (the example included): the first EAGER_ORDERS built, the rest
    planned (built on first read, from their plan and a generator of their own)."""
    # The build allocates ~100k small objects that all stay alive: pausing the cyclic GC avoids
    # repeated full collections over them (it triples the build time otherwise).
    enabled = gc.isenabled()
    gc.disable()
    try:
        eager = min(store.order_count, EAGER_ORDERS)
        key = None
        built: dict[str, dict] | None = None
        if store.clock.frozen:
            key = (store.seed, eager, store.account, store.clock.now())
            cached = _CACHE.get(key)
            if cached is not None:
                text, rng_state, sequence = cached
                built, meta = json.loads(text)
                store.meta.update(meta)
                store.rng.setstate(rng_state)
        if built is None:
            built, sequence = _generate(store, eager)
            if key is not None:
                if len(_CACHE) >= _CACHE_SIZE:
                    _CACHE.pop(next(iter(_CACHE)))
                _CACHE[key] = (json.dumps([built, store.meta]), store.rng.getstate(), sequence)
        if store.order_count <= len(built):
            return Orders(built)
        from . import plans  # (only a large store plans orders)

        orders = Orders(built, build=lambda planned, row: plans.build(store, planned, row))
        plans.plan_orders(store, orders, sequence)
        return orders
    finally:
        if enabled:
            gc.enable()


def _generate(store: Store, count: int) -> tuple[dict[str, dict], int]:
    """``count`` orders drawn from the store's rng, and the next free sequence number."""
    rng = store.rng
    now = store.clock.now()
    account = store.account
    customers = _customers(rng)
    orders: dict[str, dict] = {EXAMPLE_ORDER_ID: example_order()}
    sequence = 600000
    while len(orders) < count:
        status, customer, channel, group, created, sellers, payment_kind = _purchase(
            rng, customers, now, count - len(orders)
        )
        for n, seller_id in enumerate(sellers, start=1):
            order = _build_order(
                store,
                rng,
                now,
                account,
                customer,
                status,
                channel,
                group,
                n,
                str(sequence),
                seller_id,
                created,
                payment_kind,
            )
            orders[order["orderId"]] = order
            sequence += rng.randrange(1, 9)
    return orders, sequence


def _purchase(rng, customers: list[dict], now: datetime, room: int) -> tuple:
    """One purchase: status, customer, channel, group id, creation, sellers (one order each), payment."""
    status = _weighted(rng, STATUS_WEIGHTS)
    customer = rng.choice(customers)
    roll = rng.random()
    # Purchases split between sellers form an order group (2 or 3 orders); not for affiliate
    # or fulfillment orders, which VTEX receives one by one.
    group_size = 1
    if roll < SPLIT:
        group_size = 2 if rng.random() < SPLIT_IN_TWO else 3
    channel = "store"
    if group_size == 1:
        if roll < AFFILIATE:
            channel = "affiliate"
        elif roll < FULFILLMENT:
            channel = "fulfillment"
    group_size = min(group_size, room)
    group = f"{1400000000000 + rng.randrange(10**11, 10**12)}"
    created = _creation_date(rng, now, status)
    sellers = ["1", *rng.sample([s[0] for s in SELLERS[1:]], group_size - 1)] if group_size > 1 else ["1"]
    payment_kind = _weighted(rng, _PAYMENT_WEIGHTS)
    return status, customer, channel, group, created, sellers, payment_kind


_PAYMENT_WEIGHTS = [(VISA, 35), (MASTERCARD, 25), (BOLETO, 15), (PIX, 18), (GIFT_CARD, 7)]
# The mix of purchases and of what is in them, as _purchase and _build_order draw it (plans.py
# draws the same mix a column at a time). A purchase's roll: under SPLIT it is split between
# sellers (in two orders, SPLIT_IN_TWO of the time, else three); else under AFFILIATE it came
# through an affiliate, under FULFILLMENT from another marketplace; the rest are the store's own.
SPLIT, SPLIT_IN_TWO, AFFILIATE, FULFILLMENT = 0.12, 0.75, 0.27, 0.39
ITEM_COUNTS = [1, 1, 1, 2, 2, 3, 4]  # items in an order, one drawn
QUANTITIES = [1, 1, 1, 2, 3]  # of each item
FREIGHTS = [0, 990, 1590, 2290, 3490]  # cents, unless the order is picked up

# How long ago orders were created, by status: (unit, low, high). Orders sit in early statuses
# for minutes to days; finished ones span the last six months (None: every other status).
_AGES: dict[str | None, tuple[str, float, float]] = {
    "window-to-cancel": ("minutes", 1, 30),
    **dict.fromkeys(("payment-pending", "payment-approved", "waiting-for-sellers-confirmation"), ("hours", 0.2, 72)),
    **dict.fromkeys(
        ("ready-for-handling", "handling", "waiting-for-fulfillment", "ready-for-invoicing"), ("hours", 1, 24 * 6)
    ),
    None: ("days", 1, 180),
}


def _creation_date(rng, now: datetime, status: str) -> datetime:
    unit, low, high = _AGES.get(status, _AGES[None])
    return now - timedelta(**{unit: rng.uniform(low, high)})


def _build_order(
    store,
    rng,
    now,
    account,
    customer,
    status,
    channel,
    group,
    n,
    sequence,
    seller_id,
    created,
    payment_kind,
    commerce: dict[str, Any] | None = None,
) -> dict:
    """One order document. ``commerce`` (a planned order's, see plans.py) gives the
    SLA, freight, items, quantities and prices instead of drawing them here, so the document's
    value is the one its plan announced."""
    order_t, item_t, logistics_t, payment_t = _templates()
    order = json.loads(order_t)
    order_id = f"{group}-{n:02d}"
    iso = store.iso
    place = customer["place"]
    seller_name = dict(SELLERS).get(seller_id) or account.capitalize()

    order.update(
        orderId=order_id,
        sequence=sequence,
        orderGroup=group,
        sellerOrderId=f"00-{order_id}",
        merchantName=account,
        hostname=account,
        marketplaceServicesEndpoint=f"http://oms.vtexinternal.com.br/api/oms?an={account}",
        creationDate=iso(created),
        orderFormId=_hex(rng).lower(),
        followUpEmail=f"{_hex(rng, 16).lower()}@ct.vtex.com.br",
        sellers=[{"id": seller_id, "name": seller_name, "logo": ""}],
        marketplace={
            "baseURL": f"http://oms.vtexinternal.com.br/api/oms?an={account}",
            "isCertified": None,
            "name": account,
        },
    )
    if channel == "affiliate":
        affiliate, sales_channel, _ = rng.choice(AFFILIATES)
        order.update(
            affiliateId=affiliate,
            salesChannel=sales_channel,
            marketplaceOrderId=str(rng.randrange(2 * 10**9, 3 * 10**9)),
        )
    elif channel == "fulfillment":
        # The account fulfils an order sold by another VTEX marketplace.
        market = rng.choice(["bigmarketplace", "shoppingdobairro"])
        order.update(
            origin="Fulfillment",
            salesChannel="1",
            affiliateId="",
            marketplaceOrderId=f"{rng.randrange(10**12, 10**13)}-01",
            marketplace={
                "baseURL": f"http://oms.vtexinternal.com.br/api/oms?an={market}",
                "isCertified": None,
                "name": market,
            },
            marketplaceServicesEndpoint=f"http://oms.vtexinternal.com.br/api/oms?an={market}",
        )
    else:
        order.update(affiliateId="", salesChannel="1", marketplaceOrderId="")

    profile = order["clientProfileData"]
    profile.update(
        email=customer["email"],
        firstName=customer["firstName"],
        lastName=customer["lastName"],
        document=customer["document"],
        phone=customer["phone"],
        userProfileId=customer["userProfileId"],
    )
    receiver = f"{customer['firstName']} {customer['lastName']}"
    address = {
        "addressType": "residential",
        "receiverName": receiver,
        "addressId": customer["addressId"],
        "postalCode": customer["postalCode"],
        "city": place[0],
        "state": place[1],
        "country": "BRA",
        "street": place[3],
        "number": customer["number"],
        "neighborhood": place[4],
        "complement": customer["complement"],
        "reference": None,
        "geoCoordinates": [],
    }
    shipping = order["shippingData"]
    shipping["address"] = address
    shipping["selectedAddresses"] = [{k: v for k, v in address.items()}]

    # Items (1-4 SKUs, quantities 1-3, some with a promotional discount) and their logistics lines.
    if commerce is None:
        sla_name, sla_estimate, sla_company = rng.choice(SLAS)
        shipping_total = 0 if sla_name == "Retirada" else rng.choice(FREIGHTS)
        chosen = rng.sample(CATALOG, rng.choice(ITEM_COUNTS))
    else:
        sla_name, sla_estimate, sla_company = commerce["sla"]
        shipping_total, chosen = commerce["shipping"], commerce["chosen"]
    items, logistics, metadata = [], [], []
    for index, (sku, product, name, ref, brand, categories, price) in enumerate(chosen):
        item = json.loads(item_t)
        if commerce is None:
            quantity = rng.choice(QUANTITIES)
            selling = price if rng.random() < 0.8 else price * 9 // 10
        else:
            quantity, selling = commerce["quantities"][index], commerce["sellings"][index]
        item.update(
            uniqueId=_hex(rng),
            id=sku,
            productId=product,
            lockId=f"00-{order_id}",
            quantity=quantity,
            seller=seller_id,
            name=name,
            refId=ref,
            price=price,
            listPrice=price,
            sellingPrice=selling,
            sellerSku=sku,
            ean=f"789{rng.randrange(10**9, 10**10)}",
            imageUrl=f"http://{account}.vteximg.com.br/arquivos/ids/{sku}-55-55/{ref.lower()}.jpg",
            detailUrl=f"/{ref.lower()}/p",
        )
        item["additionalInfo"].update(brandName=brand, brandId=str(2000000 + int(product)), categoriesIds=categories)
        items.append(item)
        line = json.loads(logistics_t)
        line_price = shipping_total if index == 0 else 0  # the whole freight rides on the first line
        line.update(
            itemIndex=index,
            selectedSla=sla_name,
            price=line_price,
            listPrice=line_price,
            sellingPrice=line_price,
            deliveryCompany=sla_company,
            shippingEstimate=sla_estimate,
            shippingEstimateDate=iso(created + timedelta(days=int(sla_estimate[:-2]) + 1)),
            addressId=customer["addressId"],
        )
        line["deliveryIds"][0].update(courierName=sla_company, quantity=quantity)
        if sla_name == "Retirada":
            line["deliveryChannel"] = "pickup-in-point"
        logistics.append(line)
        metadata.append(
            {
                "Id": sku,
                "Seller": seller_id,
                "Name": name,
                "SkuName": name,
                "ProductId": product,
                "RefId": ref,
                "Ean": item["ean"],
                "ImageUrl": item["imageUrl"],
                "DetailUrl": item["detailUrl"],
                "AssemblyOptions": [],
            }
        )
    order["items"] = items
    shipping["logisticsInfo"] = logistics
    order["itemMetadata"] = {"Items": metadata}
    store.recompute_totals(order)

    # Payment: one transaction, one payment (two when a gift card covers part of it).
    transaction_id = _hex(rng)
    payments = []
    remaining = order["value"]
    kinds = [payment_kind]
    if payment_kind == GIFT_CARD:
        kinds = [GIFT_CARD, VISA] if remaining > 5000 else [GIFT_CARD]
    for k, (system, system_name, group_name) in enumerate(kinds):
        amount = remaining if k == len(kinds) - 1 else min(5000, remaining)
        remaining -= amount
        payment = json.loads(payment_t)
        payment_id = _hex(rng)
        payment.update(
            id=payment_id,
            paymentSystem=system,
            paymentSystemName=system_name,
            value=amount,
            referenceValue=amount,
            group=group_name,
            url=None,
            dueDate=None,
        )
        if group_name == "creditCard":
            installments = rng.choice([1, 1, 2, 3, 6, 10]) if amount > 10000 else 1
            payment.update(
                installments=installments,
                cardHolder=receiver,
                firstDigits="411111" if system == "2" else "555555",
                lastDigits=f"{rng.randrange(10000):04d}",
                tid=str(rng.randrange(10**9)),
                connectorResponses={
                    "Tid": str(rng.randrange(10**9)),
                    "ReturnCode": "00",
                    "Message": "Transação autorizada",
                    "authId": str(rng.randrange(10**6)),
                },
            )
        elif group_name == "bankInvoice":
            payment.update(
                dueDate=(created + timedelta(days=3)).strftime("%Y-%m-%d"),
                url=f"https://{account}.vtexpayments.com.br:443/BankIssuedInvoice/Transaction/"
                f"{transaction_id}/Payment/{payment_id}/Installment/{{Installment}}",
            )
        elif group_name == "giftCard":
            payment.update(
                giftCardId=str(rng.randrange(1000, 9999)),
                giftCardName="Vale-presente",
                giftCardCaption="Vale-presente",
                redemptionCode=_hex(rng, 16),
            )
        payments.append(payment)
    order["paymentData"] = {
        "transactions": [
            {"isActive": True, "transactionId": transaction_id, "merchantName": account, "payments": payments}
        ]
    }
    if payment_kind == GIFT_CARD:
        order["paymentData"]["giftCards"] = []

    _apply_status(store, rng, now, order, status, created, None if commerce is None else commerce["partial"])
    _conversation(store, rng, order, customer)
    return order


def _apply_status(store, rng, now, order, status, created, partial: bool | None = None) -> None:
    iso = store.iso
    meta = store.meta.setdefault(order["orderId"], {})
    order["status"] = status
    order["statusDescription"] = STATUS_DESCRIPTIONS[status]
    # Payment is authorized 1 to 40 minutes after creation, but never after `now`: an order
    # created 5 minutes ago (window-to-cancel) was authorized within those 5 minutes.
    minutes = rng.uniform(1, 40)
    authorized = created + min(timedelta(minutes=minutes), (now - created) * (minutes / 40))
    order["authorizedDate"] = iso(authorized) if status in AUTHORIZED else None
    # The creation did not finish for ~2% of the orders awaiting payment: VTEX keeps them as
    # incomplete orders (isCompleted false), which can't be canceled by the API.
    order["isCompleted"] = not (status == "payment-pending" and rng.random() < 0.25)
    # "Defines if order cancellation is allowed": not for invoiced, canceled or incomplete orders,
    # nor (below) for partially invoiced ones, which the cancel route refuses.
    order["allowCancellation"] = status not in ("invoiced", "canceled") and order["isCompleted"]
    order["allowEdition"] = False
    last = authorized if status in AUTHORIZED else created + timedelta(minutes=rng.uniform(0, 10))
    full_value = order["value"]

    if status == "canceled":
        cancel_at = created + timedelta(hours=rng.uniform(0.1, 48))
        by_user = rng.random() < 0.5
        reason = rng.choice(
            [
                "Cliente desistiu da compra",
                "Pagamento não aprovado",
                "Produto sem estoque",
                "Endereço de entrega inválido",
            ]
        )
        order.update(
            cancelReason=reason,
            allowCancellation=False,
            cancellationData={
                "RequestedByUser": by_user,
                "RequestedBySystem": False,
                "RequestedBySellerNotification": not by_user,
                "RequestedByPaymentNotification": False,
                "Reason": reason,
                "CancellationDate": iso(cancel_at),
            },
        )
        order["paymentData"]["transactions"][0]["isActive"] = False
        last = cancel_at
    elif status == "invoiced" or (status == "handling" and (rng.random() < 0.2 if partial is None else partial)):
        # Full invoice for invoiced orders; a partial one (first item only) for some in handling.
        invoice_at = created + timedelta(days=rng.uniform(0.5, 4))
        if status == "invoiced":
            invoiced_items = list(enumerate(order["items"]))
            value = full_value
        else:
            invoiced_items = [(0, order["items"][0])]
            value = order["items"][0]["sellingPrice"] * order["items"][0]["quantity"]
            if value >= full_value:
                value = full_value // 2
        package = _package(store, rng, order, "Output", invoiced_items, value, invoice_at)
        delivered = status == "invoiced" and invoice_at + timedelta(days=6) < now
        if status == "invoiced" and rng.random() < 0.85:
            package["courier"] = rng.choice(COURIERS)
            package["trackingNumber"] = f"BR{rng.randrange(10**8, 10**9)}BR"
            package["trackingUrl"] = f"https://rastreamento.correios.com.br/?objeto={package['trackingNumber']}"
            package["courierStatus"] = {
                "status": "ok" if delivered else None,
                "finished": delivered,
                "deliveredDate": iso(invoice_at + timedelta(days=5)) if delivered else "",
                "data": [],
            }
        packages = [package]
        if status == "invoiced" and delivered and rng.random() < 0.08:
            # A return of the first item after delivery, with its automatic refund.
            index, item = 0, order["items"][0]
            refund = item["sellingPrice"]
            ret = _package(
                store, rng, order, "Input", [(index, dict(item, quantity=1))], refund, invoice_at + timedelta(days=9)
            )
            ret["restitutions"] = {
                "Refund": {
                    "value": refund,
                    "giftCardData": None,
                    "items": [
                        {
                            "id": item["id"],
                            "quantity": 1,
                            "price": item["sellingPrice"],
                            "useFreight": False,
                            "isCompensation": False,
                            "compensationValue": 0,
                        }
                    ],
                }
            }
            packages.append(ret)
        order["packageAttachment"] = {"packages": packages}
        order["value"] = value  # VTEX updates the order value to the invoiced (settled) amount
        order["allowCancellation"] = False  # invoiced or partially invoiced: cancel is refused
        if status == "invoiced":
            order["invoicedDate"] = package["issuanceDate"]
            order["isCompleted"] = True
        last = max(invoice_at, authorized)
    order["lastChange"] = iso(min(last, now))
    meta.setdefault("interactions", [])


def _package(store, rng, order, kind, indexed_items, value, when) -> dict:
    return {
        "items": [
            {
                "itemIndex": i,
                "quantity": it["quantity"],
                "price": it["sellingPrice"],
                "description": it["name"],
                "unitMultiplier": 1.0,
            }
            for i, it in indexed_items
        ],
        "courier": "",
        "invoiceNumber": f"NF{rng.randrange(10**5, 10**6)}",
        "invoiceValue": value,
        "invoiceUrl": None,
        "issuanceDate": store.iso(when),
        "trackingNumber": None,
        "invoiceKey": None,
        "trackingUrl": None,
        "embeddedInvoice": "",
        "type": kind,
        "courierStatus": None,
        "cfop": None,
        "restitutions": {},
        "volumes": 1,
        "EnableInferItems": False,
    }


SUBJECTS = [
    ("Recebemos seu pedido {id}", "Olá {name}, recebemos o seu pedido {id} e ele já está sendo processado."),
    ("Pagamento aprovado do pedido {id}", "Olá {name}, o pagamento do seu pedido {id} foi aprovado."),
    ("Seu pedido {id} foi enviado", "Olá {name}, seu pedido {id} foi faturado e está a caminho."),
    ("Seu pedido {id} foi cancelado", "Olá {name}, seu pedido {id} foi cancelado."),
]


def _conversation(store, rng, order, customer) -> None:
    """E-mail conversation of an order (transactional messages), for ~half of the orders."""
    if rng.random() < 0.5:
        return
    status = order["status"]
    steps = [0]
    if order["authorizedDate"]:
        steps.append(1)
    if status == "invoiced":
        steps.append(2)
    if status == "canceled":
        steps.append(3)
    name = f"{customer['firstName']} {customer['lastName']}"
    store_party = {
        "conversationRelatedTo": order["orderId"],
        "conversationSubject": "oms",
        "emailAlias": f"noreply-{order['orderId']}@ct.vtex.com.br",
        "aliasMaskType": 0,
        "email": f"noreply@{store.account}.com.br",
        "name": store.account.capitalize(),
        "role": None,
    }
    client_party = {
        "conversationRelatedTo": order["orderId"],
        "conversationSubject": "oms",
        "emailAlias": order["followUpEmail"],
        "aliasMaskType": 0,
        "email": customer["email"],
        "name": name,
        "role": "Customer",
    }
    messages = []
    created = order["creationDate"]
    for step in steps:
        subject, body = SUBJECTS[step]
        text = body.format(name=customer["firstName"], id=order["orderId"])
        date = {
            0: created,
            1: order["authorizedDate"],
            2: order.get("invoicedDate") or order["lastChange"],
            3: order["lastChange"],
        }[step]
        messages.append(
            {
                "id": f"{_hex(rng, 24).lower()}",
                "from": dict(store_party),
                "to": [dict(client_party)],
                "subject": subject.format(id=order["orderId"]),
                "firstWords": text[:50],
                "body": f"<html><body><p>{text}</p></body></html>",
                "hasAttachment": False,
                "attachmentNames": [],
                "date": date,
            }
        )
    store.meta.setdefault(order["orderId"], {})["conversation"] = messages
