"""Social login through OpenID Connect (Google, LinkedIn). (Being completed.)"""

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    pass
