from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def open_task_count(context) -> int:
    """Open follow-up tasks of the signed-in user, for the nav badge. One indexed count query."""
    from qualify.reviews.views import open_task_count as count

    request = context.get("request")
    return count(request.user) if request is not None else 0
