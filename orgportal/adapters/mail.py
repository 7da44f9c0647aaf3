"""Mail transports: `.eml` files in MAIL_DIR by default, SMTP when SMTP_URL is set."""

import logging
import smtplib
import unicodedata
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from orgportal.models import OutboxMessage

log = logging.getLogger("orgportal.mail")


def header_value(value: str) -> str:
    """One line: line breaks and other control characters become spaces. The services refuse
    them in names and subjects, but a value stored earlier must neither inject a header nor
    make `EmailMessage` raise, which would fail that message on every attempt."""
    return " ".join("".join(" " if _breaks_line(ch) else ch for ch in value).split())


def _breaks_line(ch: str) -> bool:
    return unicodedata.category(ch) in {"Cc", "Zl", "Zp"}


def build_message(message: OutboxMessage, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = header_value(message.to_address)
    email["Subject"] = header_value(message.subject)
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}")
    email.set_content(message.body_text)
    if message.body_html:  # multipart/alternative: mail clients show the HTML, others the text
        email.add_alternative(message.body_html, subtype="html")
    return email


class FileTransport:
    """Writes each message as `<id>-<attempt>.eml`; the link is logged for local use."""

    def __init__(self, directory: Path, sender: str):
        self.directory = directory
        self.sender = sender

    def __call__(self, message: OutboxMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{message.id:06d}-{message.to_address}.eml"
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(bytes(build_message(message, self.sender)))
        tmp.replace(target)  # readers never see a half-written file
        log.warning("mail to %s: %s %s", message.to_address, message.subject, message.link)


class MailServerUnreachable(Exception):
    """The mail server could not be reached, or went away before it took the message. Nothing
    is wrong with the message: the outbox keeps it for when the server is back, without using
    up one of its MAIL_MAX_ATTEMPTS (SPEC §18)."""


class SmtpTransport:
    """`smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…` (implicit TLS).

    Connection failures (refused, timed out, lost, a 421 "service not available") raise
    MailServerUnreachable; a refusal of the message itself (5xx, 451) raises smtplib's own
    error. Once the server has accepted the message, QUIT's answer no longer matters: a
    server shutting down may answer it with 421, and the message must not be sent again."""

    def __init__(self, url: str, sender: str, timeout: float = 10.0):
        self.parts = urlsplit(url)
        self.sender = sender
        self.timeout = timeout

    def __call__(self, message: OutboxMessage) -> None:
        parts = self.parts
        implicit_tls = parts.scheme == "smtps"
        cls = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
        default_port = 465 if implicit_tls else 25
        try:
            smtp = cls(
                parts.hostname or "localhost", parts.port or default_port, timeout=self.timeout
            )
        except OSError as exc:  # refused, timeout, DNS, TLS, or a greeting other than 220
            raise _unreachable(exc) from exc
        try:
            if not implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls()
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(build_message(message, self.sender))
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPHeloError) as exc:
            raise _unreachable(exc) from exc
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code == 421:
                raise _unreachable(exc) from exc
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            if all(code == 421 for code, _ in exc.recipients.values()):
                raise _unreachable(exc) from exc
            raise
        except smtplib.SMTPException:  # the message refused: counted, retried with back-off
            raise
        except OSError as exc:  # the connection broke (reset, timeout, TLS)
            raise _unreachable(exc) from exc
        finally:
            _close(smtp)


def _unreachable(exc: Exception) -> MailServerUnreachable:
    return MailServerUnreachable(f"mail server could not be reached: {type(exc).__name__}: {exc}")


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass  # the message was accepted, or its failure is already being reported
    finally:
        smtp.close()


def transport_from_settings(settings) -> FileTransport | SmtpTransport:
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url, settings.mail_from)
    return FileTransport(settings.resolve(settings.mail_dir), settings.mail_from)
