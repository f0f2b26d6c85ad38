"""The error every loader raises for input it cannot read; it becomes a PRR000 finding."""


class LoadError(Exception):
    def __init__(self, message: str, line: int = 1, col: int = 1):
        super().__init__(message)
        self.message = message
        self.line = max(int(line or 1), 1)
        self.col = max(int(col or 1), 1)
