"""Support tickets and their conversations between users and support agents."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from fieldgate.demo.identity_numbers import make_mobile
from fieldgate.demo.orders import OrderRef
from fieldgate.demo.people import Person
from fieldgate.demo.rows import IdSequence, Row
from fieldgate.demo.timeline import EPOCH, moment_between

TICKET_STATUSES = ("open", "pending", "resolved", "closed")
_STATUS_WEIGHTS = (35, 20, 25, 20)
# Chance that a ticket of this status has an agent assigned (about half overall): resolved
# ones always have; users close some tickets themselves.
_ASSIGNED_SHARE: Mapping[str, float] = {"open": 0.1, "pending": 0.6, "resolved": 1.0, "closed": 0.4}


@dataclass(frozen=True, slots=True)
class Topic:
    """A kind of request: ``{order_no}`` in the texts is the linked order's number."""

    subject: str
    opening: str
    reply: str
    about_order: bool


TOPICS: tuple[Topic, ...] = (
    Topic(
        "订单{order_no}的教材还没收到",
        "下单一周了,纸质讲义还没有收到,订单号{order_no},麻烦帮忙查一下物流。",
        "您好,已为您联系快递公司加急处理,预计1-2个工作日内送达。",
        True,
    ),
    Topic(
        "订单{order_no}申请退款",
        "课程买错了,还没有开始学习,订单{order_no}想申请退款。",
        "您好,退款申请已提交,款项将在3-5个工作日内原路退回。",
        True,
    ),
    Topic(
        "订单{order_no}开具发票",
        "单位报销需要增值税普通发票,订单号{order_no},抬头和税号已经填好了。",
        "您好,发票将在审核通过后发送到您的邮箱,请注意查收。",
        True,
    ),
    Topic(
        "课程有效期咨询",
        "今年没考过,请问课程可以延期到明年吗?",
        "您好,考试未通过的学员可申请免费延期一年,已为您办理。",
        True,
    ),
    Topic(
        "视频播放卡顿",
        "最近看课程视频总是卡顿,网络是正常的,换了设备也一样。",
        "您好,请清除缓存后切换到标清线路再试,如仍有问题请告诉我们手机型号。",
        False,
    ),
    Topic(
        "修改绑定手机号",
        "原来的手机号不用了,想换绑新的手机号,验证码收不到。",
        "您好,为保障账号安全,需要先完成人脸认证,再为您换绑手机号。",
        False,
    ),
    Topic(
        "实名认证失败",
        "上传身份证后一直提示认证失败,名字和号码都没有填错。",
        "您好,已为您重置认证状态,请在光线充足处重新完成人脸识别。",
        False,
    ),
    Topic(
        "账号异地登录提醒",
        "收到异地登录提醒,但我没有在外地登录过,是不是账号被盗了?",
        "您好,已为您强制下线其他设备,建议立即修改密码并开启登录保护。",
        False,
    ),
    Topic(
        "优惠券无法使用",
        "领到的满减优惠券下单时显示不可用。",
        "您好,该优惠券仅限指定课程使用,已为您补发一张通用券。",
        False,
    ),
)

_FOLLOW_UPS = (
    "好的,谢谢。",
    "已经过去好几天了还没有进展,请尽快处理。",
    "我的联系电话是{phone},方便的话直接打给我。",
    "收到了,问题已解决,谢谢!",
    "还是不行,能不能换个办法?",
)
_CLOSINGS = ("问题已处理,如有其他疑问欢迎随时联系我们。", "感谢您的耐心等待,祝您考试顺利!")
_NUDGES = ("请问有人处理吗?", "麻烦尽快回复,谢谢。")


@dataclass(frozen=True, slots=True)
class TicketPlan:
    """A named user's ticket: topic index, status, assigned agent, messages, linked order."""

    topic: int
    status: str
    agent: str | None
    messages: int
    order_index: int | None = None  # index into the user's orders


NAMED_TICKETS: Mapping[str, tuple[TicketPlan, ...]] = {
    "alice": (
        TicketPlan(0, "pending", "support1", 3, order_index=0),
        TicketPlan(4, "open", None, 1),
    ),
    "bob": (
        TicketPlan(2, "resolved", "support2", 4, order_index=1),
        TicketPlan(5, "closed", "support1", 2),
    ),
}


@dataclass
class TicketBook:
    tickets: list[Row]
    messages: list[Row]


class _TicketMaker:
    def __init__(
        self,
        rng: random.Random,
        ticket_ids: IdSequence,
        message_ids: IdSequence,
        agent_ids: Mapping[str, int],
    ) -> None:
        self.rng = rng
        self.ticket_ids = ticket_ids
        self.message_ids = message_ids
        self.agent_ids = agent_ids
        self.book = TicketBook([], [])

    def add(self, person: Person, plan: TicketPlan, order: OrderRef | None) -> None:
        rng = self.rng
        topic = TOPICS[plan.topic]
        start = order.created_at if order is not None else person.created_at
        created_at = moment_between(rng, start, EPOCH)
        order_no = order.order_no if order is not None else ""
        ticket_id = self.ticket_ids.next()
        agent_id = self.agent_ids[plan.agent] if plan.agent is not None else None
        alternate = self.rng.random() < 0.15  # contact by another phone than the account's
        self.book.tickets.append(
            {
                "id": ticket_id,
                "user_id": person.id,
                "order_id": order.id if order is not None else None,
                "subject": topic.subject.format(order_no=order_no),
                "status": plan.status,
                "contact_phone": make_mobile(rng) if alternate else person.phone,
                "contact_email": person.email,
                "assigned_staff_id": agent_id,
                "created_at": created_at,
            }
        )
        at = created_at
        for turn, body in enumerate(self._bodies(topic, plan, person, order_no)):
            staff = agent_id is not None and turn % 2 == 1
            self.book.messages.append(
                {
                    "id": self.message_ids.next(),
                    "ticket_id": ticket_id,
                    "author_kind": "staff" if staff else "user",
                    "author_id": agent_id if staff else person.id,
                    "body": body,
                    "created_at": at,
                }
            )
            at = min(EPOCH, at + timedelta(minutes=rng.randint(5, 24 * 60)))

    def _bodies(self, topic: Topic, plan: TicketPlan, person: Person, order_no: str) -> list[str]:
        """Turns of the conversation: the user opens, then agent and user alternate.

        Without an agent the user is alone and can only nudge.
        """
        rng = self.rng
        bodies = [topic.opening.format(order_no=order_no)]
        while len(bodies) < plan.messages:
            if plan.agent is None:
                bodies.append(rng.choice(_NUDGES))
            elif len(bodies) == 1:
                bodies.append(topic.reply)
            elif len(bodies) % 2 == 0:
                bodies.append(rng.choice(_FOLLOW_UPS).format(phone=person.phone))
            else:
                bodies.append(rng.choice(_CLOSINGS))
        return bodies


def _random_plan(rng: random.Random, has_orders: bool, agents: tuple[str, ...]) -> TicketPlan:
    candidates = [
        index for index, topic in enumerate(TOPICS) if has_orders or not topic.about_order
    ]
    status = rng.choices(TICKET_STATUSES, _STATUS_WEIGHTS)[0]
    agent = rng.choice(agents) if rng.random() < _ASSIGNED_SHARE[status] else None
    messages = rng.randint(1, 4) if agent is not None else rng.randint(1, 2)
    return TicketPlan(rng.choice(candidates), status, agent, messages)


def make_tickets(
    rng: random.Random,
    ticket_ids: IdSequence,
    message_ids: IdSequence,
    count: int,
    people: list[Person],
    orders: list[OrderRef],
    agent_ids: Mapping[str, int],
) -> TicketBook:
    """``count`` tickets (the named users' first), each with 1-4 messages.

    About half are assigned to an agent of ``agent_ids``; those about an order are linked
    to one of the same user's orders.
    """
    orders_by_user: dict[int, list[OrderRef]] = {}
    for placed in orders:
        orders_by_user.setdefault(placed.user_id, []).append(placed)
    maker = _TicketMaker(rng, ticket_ids, message_ids, agent_ids)
    for person in people:
        for plan in NAMED_TICKETS.get(person.username, ()):
            own = orders_by_user.get(person.id, [])
            maker.add(person, plan, None if plan.order_index is None else own[plan.order_index])
    others = [person for person in people if person.username not in NAMED_TICKETS]
    agents = tuple(agent_ids)
    for _ in range(count - len(maker.book.tickets)):
        person = rng.choice(others)
        own = orders_by_user.get(person.id, [])
        plan = _random_plan(rng, bool(own), agents)
        maker.add(person, plan, rng.choice(own) if TOPICS[plan.topic].about_order else None)
    return maker.book
