"""Typed gateway errors. Each has a stable `code` the web layer turns into a message and a fix.

Messages never contain credentials or tokens.
"""

from __future__ import annotations

import datetime as dt


class GatewayError(Exception):
    """Base class. `retryable` errors may succeed on a later attempt of the same request."""

    code = "gateway_error"
    retryable = False
    #: the whole account/run is affected (stop the run), not only one usage point or one request
    stops_run = False

    def __init__(self, message: str, *, usage_point_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage_point_id = usage_point_id


class AuthenticationError(GatewayError):
    """Invalid client_id / client_secret (or v1 token). Never retried."""

    code = "invalid_credentials"
    stops_run = True


class AccountInactiveError(AuthenticationError):
    code = "account_inactive"


class RequestValidationError(GatewayError):
    """HTTP 422 or INVALID_DATE_*: the request itself is wrong; retrying it cannot help."""

    code = "invalid_request"


class RateLimitError(GatewayError):
    """The daily quota is used up; resumes after `resets_at` (00:00 UTC)."""

    code = "quota_reached"
    stops_run = True

    def __init__(
        self, message: str, *, resets_at: dt.datetime | None = None, usage_point_id: str | None = None
    ) -> None:
        super().__init__(message, usage_point_id=usage_point_id)
        self.resets_at = resets_at


class AccessDeniedError(GatewayError):
    """The usage point is not the caller's, or is inactive."""

    code = "access_denied"


class EnedisError(GatewayError):
    """Enedis refused; `enedis_code` is Enedis' own code (e.g. ADAM-DC-0008)."""

    code = "enedis_error"

    def __init__(self, message: str, *, enedis_code: str | None = None, usage_point_id: str | None = None):
        super().__init__(message, usage_point_id=usage_point_id)
        self.enedis_code = enedis_code


class NoConsentError(EnedisError):
    code = "no_consent"


class LoadCurveDisabledError(EnedisError):
    """The customer has not enabled load-curve collection (no_data_found / STM-ERR-0000014)."""

    code = "load_curve_disabled"


class NoProductionError(EnedisError):
    """Production asked on a consumption-only usage point (ADAM-ERR0069)."""

    code = "no_production"


class NotActivatedError(EnedisError):
    """Data asked before the meter's activation (ADAM-ERR0123)."""

    code = "before_activation"


class EnedisUnavailableError(EnedisError):
    code = "enedis_unavailable"
    retryable = True


class NoDataError(GatewayError):
    code = "no_data"


class DateTooOldError(GatewayError):
    """The window starts before the oldest day the route serves; `oldest_allowed` is that day when the
    gateway named it ("Oldest allowed date: YYYY-MM-DD"): a bound to learn, not a fault."""

    code = "date_too_old"

    def __init__(
        self, message: str, *, oldest_allowed: dt.date | None = None, usage_point_id: str | None = None
    ) -> None:
        super().__init__(message, usage_point_id=usage_point_id)
        self.oldest_allowed = oldest_allowed


class TransientRateLimitError(GatewayError):
    """RATE_LIMIT_EXCEEDED while the usage counters are under the limits (the limiter and the counters
    disagreed), still there after the bounded retries: the next scheduled attempt will do."""

    code = "rate_limit_transient"
    retryable = True
    stops_run = True


class GatewayUnavailableError(GatewayError):
    """Timeouts, connection errors, HTTP 5xx, 429: the gateway could not answer now."""

    code = "gateway_unreachable"
    retryable = True
    stops_run = True


class MalformedResponseError(GatewayError):
    """The answer could not be understood (bad JSON, unexpected shape)."""

    code = "malformed_response"
    retryable = True
