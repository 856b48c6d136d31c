"""LLM clients for the teacher stages (teacher, qa, repair, synthesize): one interface, three backends.

* :class:`LLMClient` (:mod:`~nextedit.llm.client`) — ``chat`` / ``chat_many`` with the response cache,
  retries, the error budget, ``max_parallelism`` and batched mode;
* :class:`LLMConfig` (:mod:`~nextedit.llm.config`) — the picklable description a pipeline step keeps
  and opens where it runs;
* :func:`parse_backend` (:mod:`~nextedit.llm.spec`) — ``anthropic:MODEL``, ``openai:MODEL``,
  ``openai-compatible:URL#MODEL``;
* :class:`ResponseCache` (:mod:`~nextedit.llm.cache`) — SQLite (WAL) answers and batch ids;
* :class:`ChatRequest`, :class:`ChatParams`, :class:`ChatResult` (:mod:`~nextedit.llm.types`);
* :class:`LLMStats` (:mod:`~nextedit.llm.stats`), :class:`PriceTable` (:mod:`~nextedit.llm.prices`);
* :mod:`~nextedit.llm.replay` — a loopback server replaying scripted provider answers and faults
  (for tests and ``nextedit bench llm``; imported only by them).

A low layer: it imports :mod:`nextedit.errors`, the standard library and (lazily, from the
``teacher`` extra) the ``openai`` and ``anthropic`` SDKs, nothing else of nextedit. Keys come from
the environment only (:mod:`~nextedit.llm.secrets`).
"""

from nextedit.llm.cache import ResponseCache, request_key
from nextedit.llm.client import LLMClient
from nextedit.llm.config import LLMConfig
from nextedit.llm.errors import ErrorBudgetExceeded, LLMFatalError
from nextedit.llm.prices import PriceTable
from nextedit.llm.retry import RetryPolicy
from nextedit.llm.spec import BackendSpec, parse_backend
from nextedit.llm.stats import LLMStats
from nextedit.llm.types import ChatParams, ChatRequest, ChatResult, Message

__all__ = [
    "BackendSpec",
    "ChatParams",
    "ChatRequest",
    "ChatResult",
    "ErrorBudgetExceeded",
    "LLMClient",
    "LLMConfig",
    "LLMFatalError",
    "LLMStats",
    "Message",
    "PriceTable",
    "ResponseCache",
    "RetryPolicy",
    "parse_backend",
    "request_key",
]
