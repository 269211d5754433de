"""The one error type users see for bad settings."""


class ConfigError(ValueError):
    """A setting has a value the platform cannot deploy.

    The message is one line: the setting's name, the bad value and what is allowed.
    `app.py` prints it without a traceback; library users get it before any AWS resource is defined.
    """

    def __init__(self, setting: str, problem: str) -> None:
        self.setting = setting
        self.problem = problem
        super().__init__(f"{setting}: {problem}")
