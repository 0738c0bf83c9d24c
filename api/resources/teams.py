"""Teams, members and invitations: endpoints 22-32, and acting on an invitation."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import teams as schemas
from api.schemas.base import Page, page_of
from models import clock, invitations, organisations


class TeamCollection(Resource):
    POST = schemas.TeamBody
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Create a team; you are its owner."""
        team = organisations.add_team(req.context.caller, name=req.context.body.name,
                                      now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.team_out(team, "owner", 1)


class TeamList(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp):
        """Your teams, with your role and their member count."""
        teams = organisations.list_teams(req.context.caller)
        resp.media = page_of(teams, req.context.query, lambda t: schemas.team_out(*t))


class TeamItem(Resource):
    PUT = schemas.TeamBody

    def on_put(self, req, resp, team_id):
        """Rename a team (managers and owners)."""
        renamed = organisations.rename_team(req.context.caller, team_id,
                                            name=req.context.body.name)
        resp.media = schemas.team_out(*renamed)

    def on_delete(self, req, resp, team_id):
        """Delete a team (owners). Refused (409) while it owns services."""
        organisations.delete_team(req.context.caller, team_id)
        resp.media = {"message": "Team deleted."}


class MemberList(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp, team_id):
        """The team's members with their roles."""
        members = organisations.list_members(req.context.caller, team_id)
        resp.media = page_of(members, req.context.query, schemas.member_out)


class MemberItem(Resource):
    PATCH = schemas.MemberUpdate

    def on_delete(self, req, resp, team_id, member_id):
        """Remove a member (owners), or leave the team yourself."""
        organisations.remove_member(req.context.caller, team_id, member_id)
        resp.media = {"message": "Member removed."}

    def on_patch(self, req, resp, team_id, member_id):
        """Change a member's role and/or move them to another team (owners)."""
        body = req.context.body
        membership = organisations.update_member(req.context.caller, team_id, member_id,
                                                 role=body.role, new_team_id=body.new_team_id,
                                                 now=clock.now())
        resp.media = schemas.member_out(membership)


class InvitationList(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp, team_id):
        """The team's invitations: channel, type, sender and status."""
        now = clock.now()
        found = invitations.list_invitations(req.context.caller, team_id)
        resp.media = page_of(found, req.context.query,
                             lambda invitation: schemas.invitation_out(invitation, now))


class InvitationCollection(Resource):
    POST = schemas.InvitationBody
    DELETE = schemas.InvitationTarget
    STATUS = {"POST": 201}

    def on_post(self, req, resp, team_id):
        """Invite someone by email or SMS (owners)."""
        body, now = req.context.body, clock.now()
        invitation = invitations.invite(req.context.caller, team_id,
                                        channel_type=body.channel_type,
                                        channel_value=body.channel_value, role=body.role,
                                        settings=self.settings, now=now)
        resp.status = falcon.HTTP_201
        resp.media = schemas.invitation_out(invitation, now)

    def on_delete(self, req, resp, team_id):
        """Delete the invitation sent to `channel_value` (owners)."""
        invitations.delete_invitation(req.context.caller, team_id,
                                      channel_value=req.context.body.channel_value)
        resp.media = {"message": "Invitation deleted."}


class InvitationReminder(Resource):
    POST = schemas.InvitationTarget

    def on_post(self, req, resp, team_id):
        """Send a pending invitation again (a fresh link; at most every 10 minutes)."""
        now = clock.now()
        invitation = invitations.remind(req.context.caller, team_id,
                                        channel_value=req.context.body.channel_value,
                                        settings=self.settings, now=now)
        resp.media = schemas.invitation_out(invitation, now)


class InvitationByToken(Resource):
    PUBLIC = {"GET"}

    def on_get(self, req, resp, token):
        """What an invitation offers: the team and role, its status and expiry."""
        invitation = invitations.by_token(token, settings=self.settings)
        resp.media = schemas.public_invitation_out(invitation, clock.now())


class InvitationAcceptance(Resource):
    def on_post(self, req, resp, token):
        """Accept an invitation: join the team with the invited role."""
        membership = invitations.accept(req.context.caller, token, settings=self.settings,
                                        now=clock.now())
        resp.media = schemas.member_out(membership)


class InvitationDecline(Resource):
    def on_post(self, req, resp, token):
        """Decline an invitation."""
        invitations.decline(req.context.caller, token, settings=self.settings, now=clock.now())
        resp.media = {"message": "Invitation declined."}
