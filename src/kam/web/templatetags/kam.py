from django import template

from kam.web.i18n import in_language

register = template.Library()
register.filter("in_language", in_language)
