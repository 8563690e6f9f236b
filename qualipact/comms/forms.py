from django import forms


class NewsletterSignupForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)
    # The exact words shown next to the box; consent is recorded under them.
    wording = forms.CharField(widget=forms.HiddenInput, max_length=64)
    agree = forms.BooleanField(
        label="Yes, send me the newsletter as described above.",
        required=True,
        error_messages={"required": "Tick the box to subscribe; it is never ticked for you."},
    )
