"""Agent evals: support tickets answered by a model with this server's tools, scored by the store.

- tickets.py, tickets.yaml, tickets.schema.json: the dataset (a ticket, its seeded store, the
  human's policy, what the store must look like afterwards, a reference trajectory);
- storefront.py: one ticket's sandbox on a loopback port, and the server's stdio command for it;
- human.py: the scripted human who decides approvals on the server's approval page;
- checks.py: what the scorers check, read from the sandbox's state, its request log and the audit;
- scenarios.py: a ticket's reference as a scenario for the scenario runner (``vtex-orders-mcp eval``);
- task.py, reference.py: the Inspect AI task ``support_tickets`` and the mock model replaying
  references (they import inspect_ai: ``pip install 'vtex-orders-mcp[inspect]'``).

docs/agent-evals.md says how to run it, with the mock model or a real one.
"""

from __future__ import annotations

from .tickets import TICKETS_PATH, Ticket, TicketError, load_tickets

__all__ = ["TICKETS_PATH", "Ticket", "TicketError", "load_tickets"]
