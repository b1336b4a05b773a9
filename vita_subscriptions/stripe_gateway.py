"""The one place that talks to Stripe.

Everything the addon asks of Stripe goes through :class:`StripeGateway`: it
builds a ``stripe.StripeClient`` from the Stripe payment provider of the
company (test or live by the provider's state), pins the API version of the
installed stripe-python, retries network errors, sends an idempotency key with
every create call and turns Stripe errors into plain ``UserError`` messages
that never carry key material.
"""

import hashlib
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import stripe

from odoo.exceptions import UserError

from .const import PARAM_STRIPE_API_BASE
from .errors import StripeFailure

_logger = logging.getLogger(__name__)

API_VERSION = stripe.api_version
MAX_NETWORK_RETRIES = 2
PAGE_SIZE = 100
# Stripe's own tolerance for the signature timestamp, in seconds.
WEBHOOK_TOLERANCE = stripe.Webhook.DEFAULT_TOLERANCE
# Longest event id, type or API version accepted (Stripe's are < 64).
MAX_IDENTIFIER_LENGTH = 255


class StripeGateway:
    """A Stripe client bound to one company's Stripe payment provider."""

    # Tests replace this with a recording ``stripe.HTTPClient`` to answer what
    # localstripe cannot model; production leaves it to stripe-python.
    http_client: stripe.HTTPClient | None = None

    def __init__(self, provider):
        self.env = provider.env
        self.provider = provider
        self.mode = self.mode_of(provider)
        secret_key = provider.sudo().stripe_secret_key
        if not secret_key:
            raise UserError(self.env._("Set the secret key of the Stripe payment provider before using subscriptions."))
        api_base = provider.sudo().vita_stripe_api_base or self.env["ir.config_parameter"].sudo().get_param(
            PARAM_STRIPE_API_BASE
        )
        self.client = stripe.StripeClient(
            secret_key,
            stripe_version=API_VERSION,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=self.http_client,
        )

    # ------------------------------------------------------------------
    # Construction
    # ------------------------------------------------------------------

    @classmethod
    def for_company(cls, env, company=None):
        """Gateway of the Stripe provider of ``company`` (default: current)."""
        return cls(cls.provider_of(env, company or env.company))

    @staticmethod
    def find_provider(env, company):
        """The Stripe provider of ``company`` (sudo), possibly disabled or
        empty; an active one is preferred when there are several."""
        return (
            env["payment.provider"]
            .sudo()
            .search([("code", "=", "stripe"), ("company_id", "=", company.id)], order="state desc, id", limit=1)
        )

    @staticmethod
    def companies_using_stripe(env):
        """Companies whose Stripe provider is in test mode or enabled (the crons' scope)."""
        providers = (
            env["payment.provider"].sudo().search([("code", "=", "stripe"), ("state", "in", ("test", "enabled"))])
        )
        return providers.company_id

    @classmethod
    def provider_of(cls, env, company):
        provider = cls.find_provider(env, company)
        if not provider or provider.state == "disabled":
            raise UserError(
                env._(
                    "The Stripe payment provider of %(company)s is not enabled. "
                    "Configure it (test or enabled) under Invoicing > Configuration > Payment Providers.",
                    company=company.name,
                )
            )
        return provider

    @staticmethod
    def mode_of(provider):
        """``live`` when the provider is enabled, ``test`` in test mode."""
        return "live" if provider.state == "enabled" else "test"

    # ------------------------------------------------------------------
    # Idempotency and errors
    # ------------------------------------------------------------------

    def idempotency_key(self, record, action, *discriminators):
        """A key that is the same every time the same record does the same thing.

        Stripe replays the first answer for 24 h when a key comes back, so a
        retried request (double click, network retry, worker restart) never
        creates a second object. The database uuid keeps two databases on one
        Stripe account apart; discriminators (e.g. a URL) make a new key when
        the request itself changes.
        """
        dbuuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        key = f"vita-{dbuuid}-{record._name}-{record.id}-{action}"
        if discriminators:
            digest = hashlib.sha256("|".join(map(str, discriminators)).encode()).hexdigest()[:16]
            key = f"{key}-{digest}"
        return key

    @contextmanager
    def _errors_as_user_errors(self, operation, refusal_hint=None):
        """Stripe exceptions become messages a user can act on: a
        :class:`StripeFailure` with the clerk's message and the customer's.

        The messages are ours: Stripe's own text may quote part of the key.
        ``refusal_hint`` says what to do when Stripe refuses the request.
        """
        later = self.env._("The payment service is not available right now. Please try again in a few minutes.")
        try:
            yield
        except stripe.CardError as error:
            self._log(operation, error)
            message = self.env._("The card cannot be used: %s", self.decline_reason(error))
            raise StripeFailure(message, self.env._("%s Please try another card.", message)) from None
        except stripe.AuthenticationError as error:
            self._log(operation, error)
            raise StripeFailure(
                self.env._("Stripe refused the API key. Check the secret key of the Stripe payment provider."), later
            ) from None
        except stripe.PermissionError as error:
            self._log(operation, error)
            raise StripeFailure(
                self.env._("The Stripe API key is not allowed to do this. Use a secret key with full access."), later
            ) from None
        except stripe.RateLimitError as error:
            self._log(operation, error)
            raise StripeFailure(
                self.env._("Stripe is receiving too many requests. Please try again in a minute."), later
            ) from None
        except stripe.APIConnectionError as error:
            self._log(operation, error)
            raise StripeFailure(
                self.env._("Stripe could not be reached. Check the network connection and try again."), later
            ) from None
        except stripe.IdempotencyError as error:
            self._log(operation, error)
            raise StripeFailure(
                self.env._("Stripe already received this request with other values. Please try again tomorrow."), later
            ) from None
        except stripe.StripeError as error:
            self._log(operation, error)
            raise StripeFailure(self._refusal_message(error, refusal_hint), later) from None

    def _refusal_message(self, error, hint=None):
        """What Stripe answered (HTTP status, Stripe's error code and, for a
        request Stripe found invalid, its explanation), then what to do.
        A 5xx is Stripe's own failure, not a refusal."""
        answer = self.env._(
            "Stripe answered HTTP %(status)s, error code “%(code)s”",
            status=error.http_status or "—",
            code=error.code or self.env._("none"),
        )
        if isinstance(error, stripe.InvalidRequestError) and error.user_message:
            answer = f"{answer}: {error.user_message}"
        if (error.http_status or 0) >= 500:
            return self.env._(
                "Stripe failed to handle the request (%(answer)s). Please try again later.", answer=answer
            )
        return self.env._(
            "Stripe refused the request (%(answer)s). %(hint)s",
            answer=answer,
            hint=hint or self.env._("Please try again later; if it persists, check the Stripe dashboard."),
        )

    @staticmethod
    def _log(operation, error):
        _logger.warning(
            "Stripe %s failed: %s (http %s, code %s, request %s)",
            operation,
            type(error).__name__,
            error.http_status,
            error.code,
            error.request_id,
        )

    # ------------------------------------------------------------------
    # Catalogue
    # ------------------------------------------------------------------

    def list_plans(self) -> Iterator[stripe.Plan]:
        """Every plan (recurring price) of the account, active or not, paged.

        Recurring prices created in the dashboard are listed by the Plans API
        too (same id), so one call covers both.
        https://docs.stripe.com/api/plans/list
        """
        params: stripe.params.PlanListParams = {"limit": PAGE_SIZE, "expand": ["data.product"]}
        with self._errors_as_user_errors("plans.list"):
            yield from self.client.v1.plans.list(params=params).auto_paging_iter()

    def list_tax_rates(self) -> Iterator[stripe.TaxRate]:
        """Every tax rate of the account, active or not, paged."""
        params: stripe.params.TaxRateListParams = {"limit": PAGE_SIZE}
        with self._errors_as_user_errors("tax_rates.list"):
            yield from self.client.v1.tax_rates.list(params=params).auto_paging_iter()

    # ------------------------------------------------------------------
    # Webhook endpoint
    # ------------------------------------------------------------------

    def create_webhook_endpoint(self, url, event_types, idempotency_key) -> stripe.WebhookEndpoint:
        """Register ``url`` for ``event_types`` with the pinned API version.

        https://docs.stripe.com/api/webhook_endpoints/create
        """
        params: stripe.params.WebhookEndpointCreateParams = {
            "url": url,
            "enabled_events": list(event_types),  # type: ignore[typeddict-item]
            "api_version": API_VERSION,  # type: ignore[typeddict-item]
            "description": "Odoo vita_subscriptions",
        }
        hint = self.env._(
            "Create the endpoint in the Stripe dashboard (Developers > Webhooks) with the webhook URL "
            "and these events: %(events)s; then paste its signing secret (whsec_…) here.",
            events=", ".join(event_types),
        )
        with self._errors_as_user_errors("webhook_endpoints.create", refusal_hint=hint):
            return self.client.v1.webhook_endpoints.create(params=params, options={"idempotency_key": idempotency_key})

    # ------------------------------------------------------------------
    # Customers
    # ------------------------------------------------------------------

    def create_customer(self, name, email, metadata, idempotency_key) -> stripe.Customer:
        """https://docs.stripe.com/api/customers/create"""
        params: stripe.params.CustomerCreateParams = {"name": name, "metadata": metadata}
        if email:
            params["email"] = email
        with self._errors_as_user_errors("customers.create"):
            return self.client.v1.customers.create(params=params, options={"idempotency_key": idempotency_key})

    def retrieve_customer(self, customer_id) -> stripe.Customer:
        """https://docs.stripe.com/api/customers/retrieve"""
        with self._errors_as_user_errors("customers.retrieve"):
            return self.client.v1.customers.retrieve(customer_id)

    def update_customer_metadata(self, customer_id, metadata) -> stripe.Customer:
        """Set these metadata keys (Stripe keeps the others).
        https://docs.stripe.com/api/customers/update"""
        params: stripe.params.CustomerUpdateParams = {"metadata": metadata}
        with self._errors_as_user_errors("customers.update"):
            return self.client.v1.customers.update(customer_id, params=params)

    # ------------------------------------------------------------------
    # Subscriptions
    # ------------------------------------------------------------------

    def create_subscription(
        self, customer_id, item, metadata, start, *, idempotency_key, payment_method_id=None
    ) -> stripe.Subscription:
        """One item; ``payment_method_id`` pays (the subscription's own
        default payment method), else the customer's default.

        ``start`` holds ``billing_cycle_anchor`` + ``proration_behavior`` or
        ``trial_end`` for a future first billing date, nothing for now.
        ``allow_incomplete`` (Stripe's default) leaves a subscription whose
        first payment needs 3-D Secure ``incomplete`` for the page to confirm.
        https://docs.stripe.com/api/subscriptions/create
        """
        params: stripe.params.SubscriptionCreateParams = {
            "customer": customer_id,
            "items": [item],
            "metadata": metadata,
            "payment_behavior": "allow_incomplete",
            **start,
        }
        if payment_method_id:
            params["default_payment_method"] = payment_method_id
        with self._errors_as_user_errors("subscriptions.create"):
            return self.client.v1.subscriptions.create(params=params, options={"idempotency_key": idempotency_key})

    def update_subscription(
        self, subscription_id, params: stripe.params.SubscriptionUpdateParams
    ) -> stripe.Subscription:
        """https://docs.stripe.com/api/subscriptions/update"""
        with self._errors_as_user_errors("subscriptions.update"):
            return self.client.v1.subscriptions.update(subscription_id, params=params)

    def cancel_subscription(
        self,
        subscription_id,
        cancellation_details: stripe.params.SubscriptionCancelParamsCancellationDetails | None = None,
    ) -> stripe.Subscription:
        """Cancel at once (no refund, no final invoice), with the customer's
        reason when given.
        https://docs.stripe.com/api/subscriptions/cancel"""
        params: stripe.params.SubscriptionCancelParams = {}
        if cancellation_details:
            params["cancellation_details"] = cancellation_details
        with self._errors_as_user_errors("subscriptions.cancel"):
            return self.client.v1.subscriptions.cancel(subscription_id, params=params)

    def retrieve_subscription(self, subscription_id) -> stripe.Subscription:
        with self._errors_as_user_errors("subscriptions.retrieve"):
            return self.client.v1.subscriptions.retrieve(subscription_id)

    # ------------------------------------------------------------------
    # Portal: cards and setup intents
    # ------------------------------------------------------------------

    def create_setup_intent(self, customer_id, idempotency_key) -> stripe.SetupIntent:
        """A SetupIntent the page confirms with Stripe.js (3-D Secure
        included); card data never reaches Odoo.
        https://docs.stripe.com/api/setup_intents/create"""
        params: stripe.params.SetupIntentCreateParams = {
            "customer": customer_id,
            "usage": "off_session",
        }
        with self._errors_as_user_errors("setup_intents.create"):
            return self.client.v1.setup_intents.create(params=params, options={"idempotency_key": idempotency_key})

    def attach_card(self, customer_id, payment_method_id) -> stripe.PaymentMethod:
        """Attach the card to the customer if needed (a confirmed SetupIntent
        already did); a card of another customer is refused."""
        with self._errors_as_user_errors("payment_methods.attach"):
            payment_method = self.client.v1.payment_methods.retrieve(payment_method_id)
            owner = payment_method.customer
            owner_id = owner if isinstance(owner, str) or owner is None else owner.id
            if owner_id and owner_id != customer_id:
                raise UserError(self.env._("This card cannot be used here."))
            if not owner_id:
                attach: stripe.params.PaymentMethodAttachParams = {"customer": customer_id}
                self.client.v1.payment_methods.attach(payment_method_id, params=attach)
        return payment_method

    def make_default_card(self, customer_id, payment_method_id):
        """Attach the card and make it the default for the customer's
        invoices (subscriptions without their own default follow it)."""
        payment_method = self.attach_card(customer_id, payment_method_id)
        params: stripe.params.CustomerUpdateParams = {"invoice_settings": {"default_payment_method": payment_method_id}}
        with self._errors_as_user_errors("customers.update"):
            self.client.v1.customers.update(customer_id, params=params)
        return payment_method

    def default_card(self, customer_id):
        """Brand, last 4 digits and expiry of the customer's default card,
        read live (Odoo stores none of it), or None."""
        params: stripe.params.CustomerRetrieveParams = {"expand": ["invoice_settings.default_payment_method"]}
        with self._errors_as_user_errors("customers.retrieve"):
            customer = self.client.v1.customers.retrieve(customer_id, params=params)
        settings = getattr(customer, "invoice_settings", None)
        payment_method = getattr(settings, "default_payment_method", None) if settings else None
        if not payment_method or isinstance(payment_method, str) or not getattr(payment_method, "card", None):
            return None
        return _card_summary(payment_method)

    def first_payment(self, invoice_id):
        """Status and client secret of the payment of an invoice.

        Current API versions give the secret as the invoice's
        ``confirmation_secret`` and the PaymentIntent under ``payments``;
        older ones (and localstripe) as ``payment_intent``.
        https://docs.stripe.com/changelog/basil/2025-03-31/add-support-for-multiple-partial-payments-on-invoices
        """
        current: stripe.params.InvoiceRetrieveParams = {
            "expand": ["confirmation_secret", "payments.data.payment.payment_intent"]
        }
        # Every Stripe error, of either call, becomes a message; only the
        # current call's InvalidRequestError (an older API) falls back.
        with self._errors_as_user_errors("invoices.retrieve"):
            try:
                invoice = self.client.v1.invoices.retrieve(invoice_id, params=current)
                payment_list = getattr(invoice, "payments", None)
                payments = payment_list.data if payment_list else []
                intent = payments[0].payment.payment_intent if payments else None
                secret = invoice.confirmation_secret.client_secret if invoice.confirmation_secret else None
            except stripe.InvalidRequestError:
                older: stripe.params.InvoiceRetrieveParams = {"expand": ["payment_intent"]}
                invoice = self.client.v1.invoices.retrieve(invoice_id, params=older)
                intent = getattr(invoice, "payment_intent", None)
                secret = intent.client_secret if intent and not isinstance(intent, str) else None
        if intent is None or isinstance(intent, str):
            return {"status": None, "client_secret": secret, "error": None}
        error = getattr(intent, "last_payment_error", None)
        return {
            "status": intent.status,
            "client_secret": secret or intent.client_secret,
            "error": self.decline_reason(error) if error else None,
        }

    def decline_reason(self, error):
        """Why Stripe refused a card, in the user's language: Stripe's own
        message is English only, so its decline code is translated here.
        https://docs.stripe.com/declines/codes"""
        code = str(getattr(error, "decline_code", None) or getattr(error, "code", None) or "")
        reasons = {
            "insufficient_funds": self.env._("the card has insufficient funds."),
            "expired_card": self.env._("the card has expired."),
            "incorrect_cvc": self.env._("the security code (CVC) is incorrect."),
            "invalid_cvc": self.env._("the security code (CVC) is incorrect."),
            "incorrect_number": self.env._("the card number is incorrect."),
            "invalid_expiry_month": self.env._("the expiry date is incorrect."),
            "invalid_expiry_year": self.env._("the expiry date is incorrect."),
            "lost_card": self.env._("the card was declined."),
            "stolen_card": self.env._("the card was declined."),
            "processing_error": self.env._("the bank could not process the card; please try again."),
            "authentication_required": self.env._("the bank asks for an authentication that did not take place."),
            "payment_intent_authentication_failure": self.env._("the authentication with your bank failed."),
        }
        return reasons.get(code, self.env._("the card was declined."))

    # ------------------------------------------------------------------
    # Webhooks and invoices
    # ------------------------------------------------------------------

    def list_subscriptions(self) -> Iterator[stripe.Subscription]:
        """Every subscription of the account in this mode, ended ones
        included, paged (for the reconciliation).
        https://docs.stripe.com/api/subscriptions/list"""
        params: stripe.params.SubscriptionListParams = {"status": "all", "limit": PAGE_SIZE}
        with self._errors_as_user_errors("subscriptions.list"):
            yield from self.client.v1.subscriptions.list(params=params).auto_paging_iter()

    def list_subscriptions_with_customers(self) -> Iterator[stripe.Subscription]:
        """Every subscription of the account in this mode, ended ones
        included, with its customer expanded, paged (for the import).
        https://docs.stripe.com/api/subscriptions/list"""
        params: stripe.params.SubscriptionListParams = {
            "status": "all",
            "limit": PAGE_SIZE,
            "expand": ["data.customer"],
        }
        with self._errors_as_user_errors("subscriptions.list"):
            yield from self.client.v1.subscriptions.list(params=params).auto_paging_iter()

    def retrieve_invoice(self, invoice_id) -> dict | None:
        """An invoice as a plain dict shaped like webhook payloads, or None
        when Stripe does not know it.
        https://docs.stripe.com/api/invoices/retrieve"""
        with self._errors_as_user_errors("invoices.retrieve"):
            try:
                return self.client.v1.invoices.retrieve(invoice_id).to_dict()
            except stripe.InvalidRequestError as error:
                if error.http_status == 404:
                    return None
                raise

    def list_paid_invoices(self, subscription_id) -> Iterator[dict]:
        """The paid invoices of a subscription, newest first (see list_invoices)."""
        return self.list_invoices(subscription_id, ("paid",))

    def list_invoices(self, subscription_id, statuses) -> Iterator[dict]:
        """The invoices of a subscription whose status is one of
        ``statuses``, newest first, as plain dicts shaped like webhook
        payloads. Filtered here rather than with ``status=``: one list
        answers every status, on every API version.
        https://docs.stripe.com/api/invoices/list"""
        params: stripe.params.InvoiceListParams = {"subscription": subscription_id, "limit": PAGE_SIZE}
        with self._errors_as_user_errors("invoices.list"):
            for invoice in self.client.v1.invoices.list(params=params).auto_paging_iter():
                if invoice.status in statuses:
                    yield invoice.to_dict()

    def set_invoice_metadata(self, invoice_id, metadata) -> stripe.Invoice:
        """Set these metadata keys on an invoice (Stripe keeps the others);
        a finalized invoice's metadata stays editable.
        https://docs.stripe.com/api/invoices/update"""
        params: stripe.params.InvoiceUpdateParams = {"metadata": metadata}
        with self._errors_as_user_errors("invoices.update"):
            return self.client.v1.invoices.update(invoice_id, params=params)

    def list_invoice_lines(self, invoice_id) -> list[dict]:
        """Every line of an invoice, paged, as plain dicts: events and
        invoice objects carry only the first lines.
        https://docs.stripe.com/api/invoices/invoice_lines"""
        params: stripe.params.InvoiceLineItemListParams = {"limit": PAGE_SIZE}
        with self._errors_as_user_errors("invoices.line_items.list"):
            lines = self.client.v1.invoices.line_items.list(invoice_id, params=params)
            return [line.to_dict() for line in lines.auto_paging_iter()]

    # ------------------------------------------------------------------
    # Refunds, credit notes, disputes
    # ------------------------------------------------------------------

    def invoice_id_of_payment(self, payment_intent_id) -> str | None:
        """The invoice a PaymentIntent paid, if any. Since basil charges
        and PaymentIntents no longer name their invoice; the invoice
        payments do.
        https://docs.stripe.com/api/invoice-payment/list"""
        params: stripe.params.InvoicePaymentListParams = {
            "payment": {"type": "payment_intent", "payment_intent": payment_intent_id},
            "limit": 1,
        }
        with self._errors_as_user_errors("invoice_payments.list"):
            payments = self.client.v1.invoice_payments.list(params=params).data
        if not payments:
            return None
        invoice = payments[0].invoice
        return invoice if isinstance(invoice, str) else invoice.id

    def list_refunds(self, charge_id) -> list[dict]:
        """Every refund of a charge, as plain dicts (a charge no longer
        embeds its refunds). https://docs.stripe.com/api/refunds/list"""
        params: stripe.params.RefundListParams = {"charge": charge_id, "limit": PAGE_SIZE}
        with self._errors_as_user_errors("refunds.list"):
            return [refund.to_dict() for refund in self.client.v1.refunds.list(params=params).auto_paging_iter()]

    def list_credit_notes(self, invoice_id) -> list[dict]:
        """Every credit note of an invoice, as plain dicts shaped like
        webhook payloads. https://docs.stripe.com/api/credit_notes/list"""
        params: stripe.params.CreditNoteListParams = {"invoice": invoice_id, "limit": PAGE_SIZE}
        with self._errors_as_user_errors("credit_notes.list"):
            return [note.to_dict() for note in self.client.v1.credit_notes.list(params=params).auto_paging_iter()]

    def list_credit_note_lines(self, credit_note_id) -> list[dict]:
        """Every line of a credit note, paged, as plain dicts.
        https://docs.stripe.com/api/credit_notes/lines"""
        params: stripe.params.CreditNoteLineItemListParams = {"limit": PAGE_SIZE}
        with self._errors_as_user_errors("credit_notes.line_items.list"):
            lines = self.client.v1.credit_notes.line_items.list(credit_note_id, params=params)
            return [line.to_dict() for line in lines.auto_paging_iter()]

    # ------------------------------------------------------------------
    # Renewals at risk and plan changes (issue 11)
    # ------------------------------------------------------------------

    def card_details(self, payment_method_id):
        """Brand, last 4 digits and expiry of one card, or None.
        https://docs.stripe.com/api/payment_methods/retrieve"""
        with self._errors_as_user_errors("payment_methods.retrieve"):
            payment_method = self.client.v1.payment_methods.retrieve(payment_method_id)
        return _card_summary(payment_method) if getattr(payment_method, "card", None) else None

    def preview_subscription_change(self, subscription_id, items, proration_behavior, proration_date=None):
        """Stripe's preview of the next invoice once ``items`` replace the
        subscription's: amount due, and how much of it is prorations (lines
        whose ``parent.subscription_item_details.proration`` is true; older
        API versions flag the line itself). Amounts in Stripe's units.
        https://docs.stripe.com/api/invoices/create_preview"""
        details: stripe.params.InvoiceCreatePreviewParamsSubscriptionDetails = {
            "items": items,
            "proration_behavior": proration_behavior,
        }
        if proration_date:
            details["proration_date"] = proration_date
        params: stripe.params.InvoiceCreatePreviewParams = {
            "subscription": subscription_id,
            "subscription_details": details,
        }
        with self._errors_as_user_errors("invoices.create_preview"):
            preview = self.client.v1.invoices.create_preview(params=params).to_dict()
        lines = (preview.get("lines") or {}).get("data") or []
        return {
            "amount_due": preview.get("amount_due") or 0,
            "total": preview.get("total") or 0,
            "proration": sum(line.get("amount") or 0 for line in lines if _is_proration(line)),
            "next_payment_attempt": preview.get("next_payment_attempt"),
        }


class WebhookRejected(ValueError):
    """A webhook request that must be answered 400 and not stored."""


def verify_webhook(payload: bytes, sig_header, secret) -> dict:
    """The event of a webhook request whose ``Stripe-Signature`` proves it
    comes from Stripe, as a dict; raises :class:`WebhookRejected` otherwise.

    The signature covers the raw body, so the raw bytes are checked before
    anything parses them. stripe-python only refuses timestamps older than
    the tolerance; one too far in the future is refused here as well.
    https://docs.stripe.com/webhooks#verify-official-libraries
    """
    try:
        stripe.WebhookSignature.verify_header(payload, sig_header, secret, tolerance=WEBHOOK_TOLERANCE)
    except stripe.SignatureVerificationError as error:
        raise WebhookRejected(str(error)) from None
    except UnicodeDecodeError:
        raise WebhookRejected("The body is not UTF-8") from None
    timestamp = _signature_timestamp(sig_header)
    if timestamp is None or timestamp > time.time() + WEBHOOK_TOLERANCE:
        raise WebhookRejected("Timestamp outside the tolerance zone")
    try:
        event = json.loads(payload)
    except ValueError:
        raise WebhookRejected("The body is not JSON") from None
    except RecursionError:
        raise WebhookRejected("The body is nested too deep") from None
    if not isinstance(event, dict) or not all(_is_identifier(event.get(key)) for key in ("id", "type")):
        raise WebhookRejected("The body is not a Stripe event (no id or type)")
    return event


def _is_identifier(value):
    """A string the event log can store and index: Stripe's ids and types
    are short, printable and never hold NUL (PostgreSQL refuses it)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_IDENTIFIER_LENGTH and "\x00" not in value


def _signature_timestamp(sig_header):
    for part in sig_header.split(","):
        name, _sep, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            return int(value)
    return None


def _is_proration(line):
    parent = line.get("parent") or {}
    details = parent.get("subscription_item_details") or {}
    return bool(details.get("proration") or line.get("proration"))


def _card_summary(payment_method):
    """What Odoo keeps of a card PaymentMethod: never the number."""
    card = payment_method.card
    return {
        "id": payment_method.id,
        "brand": (card.brand or "").title(),
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
    }
