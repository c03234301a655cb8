"""Forms of the accounts, password and audit-log pages."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError

from models import Role

from evaluation.accounts.services import PASSWORD_MAX, PASSWORD_MIN, ROLE_LABELS
from evaluation.accounts.audit import ACTIONS

_PASSWORD_LENGTH = Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
                          message=_l("密码须为 %(min)s 到 %(max)s 个字符", min=PASSWORD_MIN, max=PASSWORD_MAX))


class UserForm(FlaskForm):
    """A new account: name, role, the unit of a liaison, a first password."""

    username = StringField(_l("用户名"), validators=[InputRequired(_l("请输入用户名")), Length(max=80)])
    role = SelectField(_l("角色"), choices=[(r.value, ROLE_LABELS[r]) for r in Role], default=Role.LIAISON.value)
    unit = SelectField(_l("单位(联络员必填)"), coerce=int, default=0)
    password = PasswordField(_l("初始密码"), validators=[InputRequired(_l("请输入密码")), _PASSWORD_LENGTH])

    def validate_unit(self, field) -> None:
        """A liaison must be given a unit."""
        if self.role.data == Role.LIAISON.value and not field.data:
            raise ValidationError(_l("联络员须指定单位"))


class PasswordForm(FlaskForm):
    """Change one's own password: the current one, the new one twice."""

    old = PasswordField(_l("原密码"), validators=[InputRequired(_l("请输入原密码")), Length(max=PASSWORD_MAX)])
    new = PasswordField(_l("新密码"), validators=[InputRequired(_l("请输入新密码")), _PASSWORD_LENGTH])
    confirm = PasswordField(_l("再次输入新密码"), validators=[
        InputRequired(_l("请再次输入新密码")), EqualTo("new", _l("两次输入的新密码不一致"))])


class ResetPasswordForm(FlaskForm):
    """An organiser sets another account's password: the new one twice."""

    new = PasswordField(_l("新密码"), validators=[InputRequired(_l("请输入新密码")), _PASSWORD_LENGTH])
    confirm = PasswordField(_l("再次输入新密码"), validators=[
        InputRequired(_l("请再次输入新密码")), EqualTo("new", _l("两次输入的新密码不一致"))])


class AuditFilterForm(FlaskForm):
    """Filters of the audit page, read from the query string (no CSRF: it only reads)."""

    class Meta:
        csrf = False

    action = SelectField(_l("操作"), choices=[("", _l("全部"))] + list(ACTIONS.items()), default="",
                         validate_choice=False)
    user = StringField(_l("用户"), validators=[Optional(), Length(max=80)])
    since = DateField(_l("起始日期"), validators=[Optional()])
    until = DateField(_l("截止日期"), validators=[Optional()])
