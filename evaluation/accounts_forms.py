"""Forms of the accounts, password and audit-log pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length, Optional, ValidationError

from models import Role

from .accounts import PASSWORD_MAX, PASSWORD_MIN, ROLE_LABELS
from .audit import ACTIONS

_PASSWORD_LENGTH = Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
                          message=f"密码须为 {PASSWORD_MIN} 到 {PASSWORD_MAX} 个字符 / "
                                  f"The password must have {PASSWORD_MIN}–{PASSWORD_MAX} characters.")


class UserForm(FlaskForm):
    """A new account: name, role, the unit of a liaison, a first password."""

    username = StringField("用户名 / Username", validators=[InputRequired("请输入用户名 / Enter a username."),
                                                           Length(max=80)])
    role = SelectField("角色 / Role", choices=[(r.value, ROLE_LABELS[r]) for r in Role], default=Role.LIAISON.value)
    unit = SelectField("单位(联络员必填)/ Unit (liaisons)", coerce=int, default=0)
    password = PasswordField("初始密码 / First password", validators=[InputRequired("请输入密码 / Enter a password."),
                                                                   _PASSWORD_LENGTH])

    def validate_unit(self, field) -> None:
        """A liaison must be given a unit."""
        if self.role.data == Role.LIAISON.value and not field.data:
            raise ValidationError("联络员须指定单位 / A liaison needs a unit.")


class PasswordForm(FlaskForm):
    """Change one's own password: the current one, the new one twice."""

    old = PasswordField("原密码 / Current password", validators=[InputRequired("请输入原密码 / Enter your current "
                                                                              "password."), Length(max=PASSWORD_MAX)])
    new = PasswordField("新密码 / New password", validators=[InputRequired("请输入新密码 / Enter a new password."),
                                                            _PASSWORD_LENGTH])
    confirm = PasswordField("再次输入新密码 / New password again", validators=[
        InputRequired("请再次输入新密码 / Repeat the new password."),
        EqualTo("new", "两次输入的新密码不一致 / The two new passwords differ.")])


class AuditFilterForm(FlaskForm):
    """Filters of the audit page, read from the query string (no CSRF: it only reads)."""

    class Meta:
        csrf = False

    action = SelectField("操作 / Action", choices=[("", "全部 / all")] + list(ACTIONS.items()), default="",
                         validate_choice=False)
    user = StringField("用户 / User", validators=[Optional(), Length(max=80)])
    since = DateField("起始日期 / From", validators=[Optional()])
    until = DateField("截止日期 / To", validators=[Optional()])
