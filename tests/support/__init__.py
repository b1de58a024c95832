"""What the tests share that is not a fixture: reference models and payload builders."""
