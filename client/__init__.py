"""The dog-breed classifier's command-line client: ``python -m client predict dog.jpg --url URL``.

``images`` shrinks and converts photos to what the API accepts, ``api`` sends them and maps the
API's answers to Python values and errors, ``cli`` is the command line around both.
"""
