"""`commsintel workspace create`: the deployment's operator sets a workspace's first admin
(docs/decisions/0021). It calls WorkspaceService.AddMember with an operator token signed
with the deployment's signing key, so the change takes the same path as any other: the
domain checks it, MemberAdded goes on `workspace.settings`, and the call returns once
identity-resolution has applied it."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from commsintel.contracts.auth import issue_operator_token
from commsintel.contracts.proto.identity.v1 import identity_pb2 as pb
from commsintel.contracts.proto.identity.v1 import identity_pb2_grpc as pb_grpc


async def create_workspace(
    identity_target: str,
    signing_key: str,
    *,
    workspace_id: str,
    admin_member_id: str,
    addresses: list[str],
) -> pb.WorkspaceSettings:
    """Make `admin_member_id` an admin of `workspace_id`; the settings as applied."""
    token = issue_operator_token(signing_key, workspace_id, issued_at=datetime.now(UTC))
    async with grpc.aio.insecure_channel(identity_target) as channel:
        answer = await pb_grpc.WorkspaceServiceStub(channel).AddMember(
            pb.AddMemberRequest(member_id=admin_member_id, addresses=addresses, is_admin=True),
            metadata=(("authorization", f"Bearer {token}"),),
            timeout=30,
        )
    return answer.settings
