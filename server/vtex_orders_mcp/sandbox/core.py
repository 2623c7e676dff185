"""The `Sandbox` object: one simulated VTEX account (store, clock, faults, request log, app).

It wires the pieces together: a Store seeded from `seed`, the OMS routes (oms.py) and the
order-modification, feed/hook and checkout services, all behind app.Gate. `transport()` gives
an httpx2 transport into the app for in-process use; standalone.py serves the same app over HTTP.
"""

from __future__ import annotations

from datetime import datetime

from starlette.routing import Route

from . import checkout, feed, modifications, oms
from .access import SANDBOX_APP_KEY, SANDBOX_APP_TOKEN, Credentials, RateLimiter
from .app import build_app
from .faults import FaultSet
from .requestlog import LoggedRequest
from .state import Clock, Store
from .transport import SandboxTransport


REQUEST_LOG_LIMIT = 10_000


class Sandbox:
    def __init__(
        self,
        seed: int = 7,
        orders: int = 500,
        now: datetime | None = None,
        account: str = "sandbox",
        app_key: str = SANDBOX_APP_KEY,
        app_token: str = SANDBOX_APP_TOKEN,
        auth_cookie: str | None = None,
        rate_limit_per_minute: int = 6000,
        request_log_limit: int | None = REQUEST_LOG_LIMIT,
        modification_settings: dict | None = modifications.SEEDED_ACCOUNT_SETTINGS,
    ):
        self.seed = seed
        # The log keeps the newest `request_log_limit` entries (None: all). Unbounded, a server left
        # running on the sandbox grew ~0.7 KB per request (bench/soak.py measured it).
        self.request_log_limit = request_log_limit
        self.clock = Clock(now)
        self.store = Store(account=account, seed=seed, orders=orders, clock=self.clock)
        self.faults = FaultSet(seed)
        self.requests: list[LoggedRequest] = []
        self.credentials = Credentials(app_key, app_token, auth_cookie)
        self.rate_limiter = RateLimiter(self.clock, rate_limit_per_minute)
        # The other route families are services over the same store (their reset() runs after a
        # reseed); OMS routes are stateless beyond the store itself.
        # The account's saved order-modification settings (None: a new account, VTEX's defaults).
        self.modifications = modifications.ModificationsService(self.store, modification_settings)
        self.feed = feed.FeedService(self.store)
        self.checkout = checkout.CheckoutService(self.store)
        self.services: dict[str, modifications.ModificationsService | feed.FeedService | checkout.CheckoutService] = {
            "modifications": self.modifications,
            "feed": self.feed,
            "checkout": self.checkout,
        }
        for service in self.services.values():
            self.store.register_service(service)
        routes: list[Route] = [
            *oms.routes(self.store),
            *modifications.routes(self.modifications),
            *feed.routes(self.feed),
            *checkout.routes(self.checkout),
        ]
        self.routes = routes
        self.app = build_app(self, routes)

    def transport(self) -> SandboxTransport:
        return SandboxTransport(self.app)

    def tick(self) -> None:
        """Let time-driven work catch up with the clock (modification requests progress on the
        sandbox clock). Called before every request, so an order read sees finished changes."""
        self.modifications.tick()

    def log(self, entry: LoggedRequest) -> None:
        self.requests.append(entry)
        limit = self.request_log_limit
        if limit is not None and len(self.requests) > limit + limit // 10:
            del self.requests[: len(self.requests) - limit]  # in chunks: amortised O(1) per request

    def writes(self) -> list[LoggedRequest]:
        return [r for r in self.requests if r.method != "GET"]

    def clear_log(self) -> None:
        self.requests.clear()

    def reset(self) -> None:
        """Seeded state again (orders, clock, services), empty log, no faults, fresh rate window."""
        self.store.reset()
        self.faults.reset()
        self.rate_limiter.reset()
        self.clear_log()
