"""Domain values <-> AccessService messages, and the page tokens of its lists."""

from __future__ import annotations

from commsintel.access.domain.links import CALENDAR, EMAIL, Position
from commsintel.access.domain.state import AccessRequest, RecordShare
from commsintel.access.domain.visibility import (
    CalendarView,
    EmailView,
    Level,
    Mailbox,
)
from commsintel.contracts.errors import InvalidValue
from commsintel.contracts.proto.access.v1 import access_pb2 as pb
from commsintel.platform.api_values import cursor_field, decode_page_token, timestamp

_BAD_TOKEN = "bad page_token: not one this API returned"
_RSVP = {
    "accepted": pb.RSVP_STATUS_ACCEPTED,
    "declined": pb.RSVP_STATUS_DECLINED,
    "tentative": pb.RSVP_STATUS_TENTATIVE,
    "needs_action": pb.RSVP_STATUS_NEEDS_ACTION,
}
_TARGET_KIND = {
    "message": pb.ACCESS_TARGET_KIND_MESSAGE,
    "thread": pb.ACCESS_TARGET_KIND_THREAD,
    "record": pb.ACCESS_TARGET_KIND_RECORD,
}
_REQUEST_STATE = {
    "pending": pb.ACCESS_REQUEST_STATE_PENDING,
    "approved": pb.ACCESS_REQUEST_STATE_APPROVED,
    "declined": pb.ACCESS_REQUEST_STATE_DECLINED,
}
# The domain's levels are the proto's numbers; checked once here.
assert all(pb.VisibilityLevel.Value(f"VISIBILITY_LEVEL_{level.name}") == level for level in Level)


def level_of(value: int) -> Level:
    if value not in {level.value for level in Level}:
        raise InvalidValue("level must be one of METADATA, SUBJECT, FULL")
    return Level(value)


def email_pb(view: EmailView) -> pb.RecordEmail:
    email = pb.RecordEmail(
        message_key=view.message_key,
        visibility=view.level,
        sent_at=timestamp(view.sent_at),
        participants=[
            pb.EmailParticipant(role=p.role, address=p.address, display_name=p.display_name)
            for p in view.participants
        ],
        can_request_access=view.can_request_access,
        thread_key=view.thread_key,
        access_requested=view.access_requested,
    )
    if view.subject is not None:
        email.subject = view.subject
    return email


class EmailMessages:
    """The message of each email view, made once: the state remembers views per viewer
    until something they depend on changes, so a view seen again is the same object.
    The messages are shared: copy them into responses, never change them."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._by_view: dict[int, tuple[EmailView, pb.RecordEmail]] = {}

    def of(self, view: EmailView) -> pb.RecordEmail:
        found = self._by_view.get(id(view))
        if found is not None and found[0] is view:
            return found[1]
        message = email_pb(view)
        if len(self._by_view) >= self._limit:
            self._by_view.clear()
        self._by_view[id(view)] = (view, message)  # the view kept alive: its id stays its own
        return message


def calendar_pb(view: CalendarView) -> pb.RecordCalendarEvent:
    event = pb.RecordCalendarEvent(
        calendar_event_key=view.event_key,
        visibility=view.level,
        starts_at=timestamp(view.starts_at),
        ends_at=timestamp(view.ends_at),
        all_day=view.all_day,
        organizer=view.organizer,
        attendees=[
            pb.CalendarAttendee(
                address=a.address,
                display_name=a.display_name,
                rsvp=_RSVP.get(a.rsvp, pb.RSVP_STATUS_UNSPECIFIED),
            )
            for a in view.attendees
        ],
    )
    if view.title is not None:
        event.title = view.title
    return event


def activity_pb(view: EmailView | CalendarView, emails: EmailMessages) -> pb.ActivityItem:
    if isinstance(view, EmailView):
        return pb.ActivityItem(email=emails.of(view))
    return pb.ActivityItem(calendar_event=calendar_pb(view))


def mailbox_sharing_pb(mailbox: Mailbox) -> pb.MailboxSharing:
    return pb.MailboxSharing(
        mailbox_id=mailbox.mailbox_id,
        level=mailbox.sharing_level,
        full_access_member_ids=sorted(mailbox.full_access),
    )


def record_sharing_pb(record_id: str, share: RecordShare) -> pb.RecordSharing:
    return pb.RecordSharing(
        record_id=record_id,
        whole_workspace=share.whole_workspace,
        member_ids=sorted(share.member_ids),
    )


def request_pb(request: AccessRequest) -> pb.AccessRequest:
    answer = pb.AccessRequest(
        request_id=request.request_id,
        requester_member_id=request.requester_member_id,
        owner_member_id=request.owner_member_id,
        target_kind=_TARGET_KIND[request.target_kind],
        target_key=request.target_key,
        note=request.note,
        state=_REQUEST_STATE[request.state],
        requested_at=timestamp(request.requested_at),
    )
    if request.decided_at is not None:
        answer.decided_at.CopyFrom(timestamp(request.decided_at))
    return answer


def position_token(at: Position) -> dict:
    return {"t": at[0], "c": at[1], "k": at[2]}


def position_of(token: str, kinds: tuple[int, ...] = (EMAIL, CALENDAR)) -> Position | None:
    """The position a page token continues after (None for the first page)."""
    if not token:
        return None
    cursor = decode_page_token(token)
    at = (
        cursor_field(cursor, "t", int),
        cursor_field(cursor, "c", int),
        cursor_field(cursor, "k", str),
    )
    if at[1] not in kinds:
        raise InvalidValue(_BAD_TOKEN)
    return at
