"""The images a target's releases need, as references in the local Docker store.

A target names each image's source: one of chaosgate's own stack images
(pulled or built from pinned sources for this run, so its reference depends
on the image mode), a Dockerfile built on the host, an image already
present, or the image the team ships, pulled by its reference (through the
run's registry mirror when one is set). Every one ends up in the kind nodes
(``kind load``), so the cluster never needs a registry.
"""

from __future__ import annotations

from collections.abc import Mapping

from deployer.images.upstream import UPSTREAM, PullSource, pull
from deployer.target import ImageSource, Target
from kernel.errors import BadInputError, InfraError
from kernel.procs import run
from kernel.progress import phase

BUILD_TIMEOUT_S = 1800.0


def resolve(target: Target, stack_images: Mapping[str, str], source: PullSource = UPSTREAM) -> dict[str, str]:
    """Image name -> local reference, building Dockerfile images and pulling
    referenced ones (from ``source``) as needed."""
    if target.deploy is None:
        return {}
    return {image.name: _one(image, stack_images, source) for image in target.deploy.images}


def _one(image: ImageSource, stack_images: Mapping[str, str], source: PullSource) -> str:
    if image.pull:
        try:
            return pull({image.name: image.ref}, source)[image.name]
        except InfraError as exc:
            raise BadInputError(
                f"deploy.images.{image.name}.pull: {image.ref} could not be pulled: {exc}\n"
                f"Fix: where no registry is reachable, provide the image yourself (`docker load -i FILE`, "
                f"or pull it on a machine that can and copy it over) and name it with `present: NAME:TAG`"
            ) from exc
    if image.stack:
        if image.stack not in stack_images:
            raise InfraError(f"chaosgate's {image.stack} image was not resolved for this run")
        return stack_images[image.stack]
    if image.dockerfile is not None:
        with phase(f"build image {image.ref} from {image.dockerfile}"):
            run(
                ["docker", "build", "--tag", image.ref, "--file", str(image.dockerfile), str(image.context)],
                timeout=BUILD_TIMEOUT_S,
            )
        return image.ref
    if not present(image.ref):
        raise BadInputError(
            f"deploy.images.{image.name}.present: {image.ref} is not in the local Docker store; "
            f"fix: `docker pull {image.ref}` or `docker build -t {image.ref} ...` first"
        )
    return image.ref


def present(ref: str) -> bool:
    try:
        run(["docker", "image", "inspect", "--format", "{{.Id}}", ref], timeout=60)
    except InfraError:
        return False
    return True


def to_load(refs: Mapping[str, str], stack_images: Mapping[str, str]) -> list[str]:
    """References not among the stack images (those are loaded with the cluster)."""
    return sorted(set(refs.values()) - set(stack_images.values()))
