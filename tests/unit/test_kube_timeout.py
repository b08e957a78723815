"""Every Kubernetes API call made through chaos.kube.Kube carries a request timeout."""

from chaos.kube import REQUEST_TIMEOUT, Timed


class Api:
    """Stands in for a generated API group: returns what it was called with."""

    def read_namespaced_stateful_set(self, name, namespace, **kwargs):
        """Read the specified StatefulSet.

        :return: V1StatefulSet
        """
        return name, namespace, kwargs

    version = "v1"


def test_a_call_without_a_timeout_gets_the_default():
    api = Timed(Api())
    assert api.read_namespaced_stateful_set("minio", "ns") == ("minio", "ns", {"_request_timeout": REQUEST_TIMEOUT})


def test_a_call_that_names_its_own_timeout_keeps_it():
    api = Timed(Api())
    assert api.read_namespaced_stateful_set("m", "ns", _request_timeout=60)[2] == {"_request_timeout": 60}


def test_the_method_keeps_its_docstring_and_attributes_pass_through():
    api = Timed(Api())
    # The client library reads a method's docstring for its return type (watches).
    assert ":return: V1StatefulSet" in api.read_namespaced_stateful_set.__doc__
    assert api.version == "v1"
