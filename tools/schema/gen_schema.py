#!/usr/bin/python3
"""gen_schema.py — write src/api/api_schema_table.c, the field table of every
kind claimfs serves (and of the kinds other parts of the API decode).

Run by hand after changing the lists below, from the top of the tree:

    /usr/bin/python3 tools/schema/gen_schema.py > src/api/api_schema_table.c

and commit the result; tests/unit/test_schema.py checks that the committed
file is what this script writes.

Where the fields come from: the model classes of Debian's python3-kubernetes
(openapi_types for the types, attribute_map for the JSON names, the property
docstrings for the descriptions). That client describes Kubernetes 1.22; the
fields the API gained up to 1.32 (the version claimfs reports) are added by
hand in ADDED, and removed ones dropped in REMOVED. VolumeSnapshot is a CRD,
not in the client, and SelfSubjectReview (authentication/v1) and
VolumeAttributesClass (storage.k8s.io/v1) came after
1.22: HAND_TYPES describes them.

The table holds, per type, its fields: JSON name, kind (object, array, map,
string, integer, number, boolean, time, raw), element kind for arrays and
maps, the object type of an object or of an array's or map's elements, and
the description. "raw" accepts anything (int-or-string, RawExtension,
fieldsV1), as x-kubernetes-preserve-unknown-fields does.
"""
import re
import sys

from kubernetes.client import models

# The kinds whose types the table holds: (class, OpenAPI name).
ROOTS = [
    "V1PersistentVolumeClaim", "V1PersistentVolume", "V1StorageClass",
    "V1StatefulSet", "V1Scale", "V1DeleteOptions", "V1Namespace",
    "CoreV1Event", "EventsV1Event", "snapshot.VolumeSnapshot",
    "V1SelfSubjectAccessReview", "V1SelfSubjectRulesReview", "authentication.SelfSubjectReview",
    "V1ControllerRevision", "storage.VolumeAttributesClass",
]

# OpenAPI package of client classes outside core/v1.
PACKAGES = {
    "io.k8s.api.apps.v1.": ["V1StatefulSet", "V1StatefulSetSpec", "V1StatefulSetStatus",
                            "V1StatefulSetCondition", "V1StatefulSetUpdateStrategy",
                            "V1RollingUpdateStatefulSetStrategy",
                            "V1StatefulSetPersistentVolumeClaimRetentionPolicy",
                            "V1StatefulSetOrdinals", "V1ControllerRevision"],
    "io.k8s.api.storage.v1.": ["V1StorageClass"],
    "io.k8s.api.autoscaling.v1.": ["V1Scale", "V1ScaleSpec", "V1ScaleStatus"],
    "io.k8s.apimachinery.pkg.apis.meta.v1.": [
        "V1ObjectMeta", "V1ListMeta", "V1LabelSelector", "V1LabelSelectorRequirement",
        "V1ManagedFieldsEntry", "V1OwnerReference", "V1DeleteOptions", "V1Preconditions",
        "V1MicroTime"],
    "io.k8s.api.events.v1.": ["EventsV1Event", "EventsV1EventSeries"],
    "io.k8s.api.authorization.v1.": ["V1SelfSubjectAccessReview", "V1SelfSubjectAccessReviewSpec",
                                     "V1ResourceAttributes", "V1NonResourceAttributes",
                                     "V1SubjectAccessReviewStatus", "V1SelfSubjectRulesReview",
                                     "V1SelfSubjectRulesReviewSpec", "V1SubjectRulesReviewStatus",
                                     "V1ResourceRule", "V1NonResourceRule"],
    "io.k8s.api.authentication.v1.": ["V1UserInfo"],
}
RENAMED = {"V1Handler": "LifecycleHandler"}

# Fields added to the API after the client's 1.22: class -> [(json, type, description)].
ADDED = {
    "V1PersistentVolumeClaimSpec": [
        ("volumeAttributesClassName", "str",
         "volumeAttributesClassName may be used to set the VolumeAttributesClass used by "
         "this claim."),
        ("dataSourceRef", "V1TypedObjectReference",
         "dataSourceRef specifies the object from which to populate the volume with data, "
         "if a non-empty volume is desired."),
    ],
    "V1PersistentVolumeClaimStatus": [
        ("allocatedResources", "dict(str, str)",
         "allocatedResources tracks the resources allocated to a PVC including its capacity."),
        ("allocatedResourceStatuses", "dict(str, str)",
         "allocatedResourceStatuses stores status of resource being resized for the given PVC."),
        ("currentVolumeAttributesClassName", "str",
         "currentVolumeAttributesClassName is the current name of the VolumeAttributesClass "
         "the PVC is using."),
        ("modifyVolumeStatus", "V1ModifyVolumeStatus",
         "ModifyVolumeStatus represents the status object of ControllerModifyVolume operation."),
    ],
    "V1PersistentVolumeSpec": [
        ("volumeAttributesClassName", "str",
         "Name of VolumeAttributesClass to which this persistent volume belongs."),
    ],
    "V1PersistentVolumeStatus": [
        ("lastPhaseTransitionTime", "datetime",
         "lastPhaseTransitionTime is the time the phase transitioned from one to another."),
    ],
    "V1CSIPersistentVolumeSource": [
        ("nodeExpandSecretRef", "V1SecretReference",
         "nodeExpandSecretRef is a reference to the secret object containing sensitive "
         "information to pass to the CSI driver to complete the CSI NodeExpandVolume call."),
    ],
    "V1ResourceRequirements": [
        ("claims", "list[V1ResourceClaim]",
         "Claims lists the names of resources, defined in spec.resourceClaims, that are used "
         "by this container."),
    ],
    "V1StatefulSetSpec": [
        ("persistentVolumeClaimRetentionPolicy",
         "V1StatefulSetPersistentVolumeClaimRetentionPolicy",
         "persistentVolumeClaimRetentionPolicy describes the lifecycle of persistent volume "
         "claims created from volumeClaimTemplates."),
        ("ordinals", "V1StatefulSetOrdinals",
         "ordinals controls the numbering of replica indices in a StatefulSet."),
    ],
    "V1ResourceAttributes": [
        ("fieldSelector", "object",
         "fieldSelector describes the limitation on access based on field."),
        ("labelSelector", "object",
         "labelSelector describes the limitation on access based on labels."),
    ],
    "V1RollingUpdateStatefulSetStrategy": [
        ("maxUnavailable", "object",
         "The maximum number of pods that can be unavailable during the update."),
    ],
    "V1PodSpec": [
        ("os", "V1PodOS", "Specifies the OS of the containers in the pod."),
        ("hostUsers", "bool", "Use the host's user namespace."),
        ("schedulingGates", "list[V1PodSchedulingGate]",
         "SchedulingGates is an opaque list of values that if specified will block "
         "scheduling the pod."),
        ("resourceClaims", "list[V1PodResourceClaim]",
         "ResourceClaims defines which ResourceClaims must be allocated and reserved before "
         "the Pod is allowed to start."),
        ("resources", "V1ResourceRequirements",
         "Resources is the total amount of CPU and Memory resources required by all "
         "containers in the pod."),
    ],
    "V1PodSecurityContext": [
        ("appArmorProfile", "V1AppArmorProfile",
         "appArmorProfile is the AppArmor options to use by the containers in this pod."),
        ("supplementalGroupsPolicy", "str",
         "Defines how supplemental groups of the first container processes are calculated."),
        ("seLinuxChangePolicy", "str",
         "seLinuxChangePolicy defines how the container's SELinux label is applied to all "
         "volumes used by the Pod."),
    ],
    "V1SecurityContext": [
        ("appArmorProfile", "V1AppArmorProfile",
         "appArmorProfile is the AppArmor options to use by this container."),
    ],
    "V1Container": [
        ("resizePolicy", "list[V1ContainerResizePolicy]",
         "Resources resize policy for the container."),
        ("restartPolicy", "str",
         "RestartPolicy defines the restart behavior of individual containers in a pod."),
    ],
    "V1EphemeralContainer": [
        ("resizePolicy", "list[V1ContainerResizePolicy]",
         "Resources resize policy for the container."),
        ("restartPolicy", "str",
         "Restart policy for the container to manage the restart behavior of each container "
         "within a pod."),
    ],
    "V1Handler": [
        ("sleep", "V1SleepAction", "Sleep represents a duration that the container should "
         "sleep."),
    ],
    "V1Probe": [
        ("grpc", "V1GRPCAction", "GRPC specifies a GRPC HealthCheckRequest."),
    ],
    "V1Volume": [
        ("image", "V1ImageVolumeSource",
         "image represents an OCI object (a container image or artifact) pulled and mounted "
         "on the kubelet's host machine."),
    ],
    "V1VolumeMount": [
        ("recursiveReadOnly", "str",
         "RecursiveReadOnly specifies whether read-only mounts should be handled recursively."),
    ],
    "V1VolumeProjection": [
        ("clusterTrustBundle", "V1ClusterTrustBundleProjection",
         "ClusterTrustBundle allows a pod to access the `.spec.trustBundle` field of "
         "ClusterTrustBundle objects in an auto-updating file."),
    ],
    "V1PodAffinityTerm": [
        ("matchLabelKeys", "list[str]",
         "MatchLabelKeys is a set of pod label keys to select which pods will be taken into "
         "consideration."),
        ("mismatchLabelKeys", "list[str]",
         "MismatchLabelKeys is a set of pod label keys to select which pods will be taken "
         "into consideration."),
    ],
    "V1TopologySpreadConstraint": [
        ("minDomains", "int", "MinDomains indicates a minimum number of eligible domains."),
        ("nodeAffinityPolicy", "str",
         "NodeAffinityPolicy indicates how we will treat Pod's nodeAffinity/nodeSelector when "
         "calculating pod topology spread skew."),
        ("nodeTaintsPolicy", "str",
         "NodeTaintsPolicy indicates how we will treat node taints when calculating pod "
         "topology spread skew."),
        ("matchLabelKeys", "list[str]",
         "MatchLabelKeys is a set of pod label keys to select the pods over which spreading "
         "will be calculated."),
    ],
}

# Fields the API has dropped since 1.22: class -> [json].
REMOVED = {"V1ObjectMeta": ["clusterName"]}

# Types the client does not have: name -> (OpenAPI name, description, [(json, type, description)]).
HAND_TYPES = {
    "V1TypedObjectReference": ("io.k8s.api.core.v1.TypedObjectReference",
        "TypedObjectReference contains enough information to let you locate the typed "
        "referenced object", [
        ("apiGroup", "str", "APIGroup is the group for the resource being referenced."),
        ("kind", "str", "Kind is the type of resource being referenced"),
        ("name", "str", "Name is the name of resource being referenced"),
        ("namespace", "str", "Namespace is the namespace of resource being referenced"),
    ]),
    "V1ModifyVolumeStatus": ("io.k8s.api.core.v1.ModifyVolumeStatus",
        "ModifyVolumeStatus represents the status object of ControllerModifyVolume operation", [
        ("targetVolumeAttributesClassName", "str",
         "targetVolumeAttributesClassName is the name of the VolumeAttributesClass the PVC "
         "currently being reconciled"),
        ("status", "str", "status is the status of the ControllerModifyVolume operation."),
    ]),
    "V1ResourceClaim": ("io.k8s.api.core.v1.ResourceClaim",
        "ResourceClaim references one entry in PodSpec.ResourceClaims.", [
        ("name", "str", "Name must match the name of one entry in pod.spec.resourceClaims."),
        ("request", "str", "Request is the name chosen for a request in the referenced claim."),
    ]),
    "V1StatefulSetPersistentVolumeClaimRetentionPolicy": (
        "io.k8s.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
        "StatefulSetPersistentVolumeClaimRetentionPolicy describes the policy used for PVCs "
        "created from the StatefulSet VolumeClaimTemplates.", [
        ("whenDeleted", "str", "WhenDeleted specifies what happens to PVCs created from "
         "StatefulSet VolumeClaimTemplates when the StatefulSet is deleted."),
        ("whenScaled", "str", "WhenScaled specifies what happens to PVCs created from "
         "StatefulSet VolumeClaimTemplates when the StatefulSet is scaled down."),
    ]),
    "V1StatefulSetOrdinals": ("io.k8s.api.apps.v1.StatefulSetOrdinals",
        "StatefulSetOrdinals describes the policy used for replica ordinal assignment in this "
        "StatefulSet.", [
        ("start", "int", "start is the number representing the first replica's index."),
    ]),
    "V1PodOS": ("io.k8s.api.core.v1.PodOS", "PodOS defines the OS parameters of a pod.", [
        ("name", "str", "Name is the name of the operating system."),
    ]),
    "V1PodSchedulingGate": ("io.k8s.api.core.v1.PodSchedulingGate",
        "PodSchedulingGate is associated to a Pod to guard its scheduling.", [
        ("name", "str", "Name of the scheduling gate."),
    ]),
    "V1PodResourceClaim": ("io.k8s.api.core.v1.PodResourceClaim",
        "PodResourceClaim references exactly one ResourceClaim.", [
        ("name", "str", "Name uniquely identifies this resource claim inside the pod."),
        ("resourceClaimName", "str", "ResourceClaimName is the name of a ResourceClaim object "
         "in the same namespace as this pod."),
        ("resourceClaimTemplateName", "str", "ResourceClaimTemplateName is the name of a "
         "ResourceClaimTemplate object in the same namespace as this pod."),
    ]),
    "V1AppArmorProfile": ("io.k8s.api.core.v1.AppArmorProfile",
        "AppArmorProfile defines a pod or container's AppArmor settings.", [
        ("type", "str", "type indicates which kind of AppArmor profile will be applied."),
        ("localhostProfile", "str", "localhostProfile indicates a profile loaded on the node "
         "that should be used."),
    ]),
    "V1ContainerResizePolicy": ("io.k8s.api.core.v1.ContainerResizePolicy",
        "ContainerResizePolicy represents resource resize policy for the container.", [
        ("resourceName", "str", "Name of the resource to which this resource resize policy "
         "applies."),
        ("restartPolicy", "str", "Restart policy to apply when specified resource is resized."),
    ]),
    "V1SleepAction": ("io.k8s.api.core.v1.SleepAction",
        "SleepAction describes a \"sleep\" action.", [
        ("seconds", "int", "Seconds is the number of seconds to sleep."),
    ]),
    "V1GRPCAction": ("io.k8s.api.core.v1.GRPCAction",
        "GRPCAction specifies an action involving a GRPC service.", [
        ("port", "int", "Port number of the gRPC service."),
        ("service", "str", "Service is the name of the service to place in the gRPC "
         "HealthCheckRequest."),
    ]),
    "V1ImageVolumeSource": ("io.k8s.api.core.v1.ImageVolumeSource",
        "ImageVolumeSource represents a image volume resource.", [
        ("reference", "str", "Required: Image or artifact reference to be used."),
        ("pullPolicy", "str", "Policy for pulling OCI objects."),
    ]),
    "V1ClusterTrustBundleProjection": ("io.k8s.api.core.v1.ClusterTrustBundleProjection",
        "ClusterTrustBundleProjection describes how to select a set of ClusterTrustBundle "
        "objects and project their contents into the pod filesystem.", [
        ("name", "str", "Select a single ClusterTrustBundle by object name."),
        ("signerName", "str", "Select all ClusterTrustBundles that match this signer name."),
        ("labelSelector", "V1LabelSelector", "Select all ClusterTrustBundles that match this "
         "label selector."),
        ("optional", "bool", "If true, don't block pod startup if the referenced "
         "ClusterTrustBundle(s) aren't available."),
        ("path", "str", "Relative path from the volume root to write the bundle."),
    ]),
    "storage.VolumeAttributesClass": ("io.k8s.api.storage.v1.VolumeAttributesClass",
        "VolumeAttributesClass represents a specification of mutable volume attributes "
        "defined by the CSI driver. The class can be specified during dynamic provisioning of "
        "PersistentVolumeClaims, and changed in the PersistentVolumeClaim spec after "
        "provisioning.", [
        ("apiVersion", "str", "APIVersion defines the versioned schema of this representation "
         "of an object."),
        ("kind", "str", "Kind is a string value representing the REST resource this object "
         "represents."),
        ("metadata", "V1ObjectMeta", "Standard object's metadata."),
        ("driverName", "str", "Name of the CSI driver This field is immutable."),
        ("parameters", "dict(str, str)", "parameters hold volume attributes defined by the CSI "
         "driver. These values are opaque to the Kubernetes and are passed directly to the CSI "
         "driver. The underlying storage provider supports changing these attributes on an "
         "existing volume, however the parameters field itself is immutable."),
    ]),
    "snapshot.VolumeSnapshot": ("io.k8s.api.snapshot.v1.VolumeSnapshot",
        "VolumeSnapshot is a user's request for either creating a point-in-time snapshot of a "
        "persistent volume, or binding to a pre-existing snapshot.", [
        ("apiVersion", "str", "APIVersion defines the versioned schema of this representation "
         "of an object."),
        ("kind", "str", "Kind is a string value representing the REST resource this object "
         "represents."),
        ("metadata", "V1ObjectMeta", "Standard object's metadata."),
        ("spec", "snapshot.VolumeSnapshotSpec", "spec defines the desired characteristics of "
         "a snapshot requested by a user. Required."),
        ("status", "snapshot.VolumeSnapshotStatus", "status represents the current "
         "information of a snapshot."),
    ]),
    "snapshot.VolumeSnapshotSpec": ("io.k8s.api.snapshot.v1.VolumeSnapshotSpec",
        "VolumeSnapshotSpec describes the common attributes of a volume snapshot.", [
        ("source", "snapshot.VolumeSnapshotSource", "source specifies where a snapshot will "
         "be created from. This field is immutable after creation. Required."),
        ("volumeSnapshotClassName", "str", "VolumeSnapshotClassName is the name of the "
         "VolumeSnapshotClass requested by the VolumeSnapshot."),
    ]),
    "snapshot.VolumeSnapshotSource": ("io.k8s.api.snapshot.v1.VolumeSnapshotSource",
        "VolumeSnapshotSource specifies whether the underlying snapshot should be dynamically "
        "taken upon creation or if a pre-existing VolumeSnapshotContent object should be used.", [
        ("persistentVolumeClaimName", "str", "persistentVolumeClaimName specifies the name of "
         "the PersistentVolumeClaim object representing the volume from which a snapshot "
         "should be created."),
        ("volumeSnapshotContentName", "str", "volumeSnapshotContentName specifies the name of "
         "a pre-existing VolumeSnapshotContent object representing an existing volume "
         "snapshot."),
    ]),
    "snapshot.VolumeSnapshotStatus": ("io.k8s.api.snapshot.v1.VolumeSnapshotStatus",
        "VolumeSnapshotStatus is the status of the VolumeSnapshot.", [
        ("boundVolumeSnapshotContentName", "str", "boundVolumeSnapshotContentName is the name "
         "of the VolumeSnapshotContent object to which this VolumeSnapshot object intends to "
         "bind to."),
        ("creationTime", "datetime", "creationTime is the timestamp when the point-in-time "
         "snapshot is taken by the underlying storage system."),
        ("readyToUse", "bool", "readyToUse indicates if the snapshot is ready to be used to "
         "restore a volume."),
        ("restoreSize", "str", "restoreSize represents the minimum size of volume required to "
         "create a volume from this snapshot."),
        ("volumeGroupSnapshotName", "str", "VolumeGroupSnapshotName is the name of the "
         "VolumeGroupSnapshot of which this VolumeSnapshot is a part of."),
        ("error", "snapshot.VolumeSnapshotError", "error is the last observed error during "
         "snapshot creation, if any."),
    ]),
    "snapshot.VolumeSnapshotError": ("io.k8s.api.snapshot.v1.VolumeSnapshotError",
        "VolumeSnapshotError describes an error encountered during snapshot creation.", [
        ("message", "str", "message is a string detailing the encountered error during "
         "snapshot creation if specified."),
        ("time", "datetime", "time is the timestamp when the error was encountered."),
    ]),
    "authentication.SelfSubjectReview": ("io.k8s.api.authentication.v1.SelfSubjectReview",
        "SelfSubjectReview contains the user information that the kube-apiserver has about "
        "the user making this request.", [
        ("apiVersion", "str", "APIVersion defines the versioned schema of this representation "
         "of an object."),
        ("kind", "str", "Kind is a string value representing the REST resource this object "
         "represents."),
        ("metadata", "V1ObjectMeta", "Standard object's metadata."),
        ("status", "authentication.SelfSubjectReviewStatus", "Status is filled in by the "
         "server with the user attributes."),
    ]),
    "authentication.SelfSubjectReviewStatus": (
        "io.k8s.api.authentication.v1.SelfSubjectReviewStatus",
        "SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.", [
        ("userInfo", "V1UserInfo", "User attributes of the user making this request."),
    ]),
}

# Descriptions of the kinds themselves (the client's classes carry none).
KIND_DESCRIPTIONS = {
    "V1PersistentVolumeClaim": "PersistentVolumeClaim is a user's request for and claim to "
        "a persistent volume",
    "V1PersistentVolume": "PersistentVolume (PV) is a storage resource provisioned by an "
        "administrator. It is analogous to a node. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes",
    "V1StorageClass": "StorageClass describes the parameters for a class of storage for "
        "which PersistentVolumes can be dynamically provisioned.",
    "V1StatefulSet": "StatefulSet represents a set of pods with consistent identities.",
    "V1Scale": "Scale represents a scaling request for a resource.",
    "V1ControllerRevision": "ControllerRevision implements an immutable snapshot of state "
        "data. Clients are responsible for serializing and deserializing the objects that "
        "contain their internal state. Once a ControllerRevision has been successfully created, "
        "it can not be updated. The API Server will fail validation of all requests that "
        "attempt to mutate the Data field. ControllerRevisions may, however, be deleted.",
    "V1DeleteOptions": "DeleteOptions may be provided when deleting an API object.",
    "V1Namespace": "Namespace provides a scope for Names. Use of multiple namespaces is "
        "optional.",
    "CoreV1Event": "Event is a report of an event somewhere in the cluster.",
    "EventsV1Event": "Event is a report of an event somewhere in the cluster. It generally "
        "denotes some state change in the system.",
    "V1SelfSubjectAccessReview": "SelfSubjectAccessReview checks whether or the current user "
        "can perform an action.  Not filling in a spec.namespace means \"in all namespaces\".  "
        "Self is a special case, because users should always be able to check whether they can "
        "perform an action",
    "V1SelfSubjectRulesReview": "SelfSubjectRulesReview enumerates the set of actions the "
        "current user can perform within a namespace.",
    "V1ObjectMeta": "ObjectMeta is metadata that all persisted resources must have, which "
        "includes all objects users must create.",
}

# The client drops the descriptions of fields whose type is an object; the
# ones kubectl explain shows most, by (class, JSON name), and metadata's.
OBJECT_FIELD_DESCRIPTIONS = {
    ("V1PersistentVolumeClaim", "spec"): "spec defines the desired characteristics of a volume "
        "requested by a pod author. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#persistentvolumeclaims",
    ("V1PersistentVolumeClaim", "status"): "status represents the current information/status "
        "of a persistent volume claim. Read-only. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#persistentvolumeclaims",
    ("V1PersistentVolume", "spec"): "spec defines a specification of a persistent volume "
        "owned by the cluster. Provisioned by an administrator. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#persistent-volumes",
    ("V1PersistentVolume", "status"): "status represents the current information/status for "
        "the persistent volume. Populated by the system. Read-only. More info: "
        "https://kubernetes.io/docs/concepts/storage/persistent-volumes#persistent-volumes",
    ("V1StatefulSet", "spec"): "Spec defines the desired identities of pods in this set.",
    ("V1StatefulSet", "status"): "Status is the current status of Pods in this StatefulSet. "
        "This data may be out of date by some window of time.",
    ("V1StatefulSetSpec", "template"): "template is the object that describes the pod that "
        "will be created if insufficient replicas are detected.",
    ("V1StatefulSetSpec", "selector"): "selector is a label query over pods that should match "
        "the replica count. It must match the pod template's labels.",
    ("V1PodTemplateSpec", "spec"): "Specification of the desired behavior of the pod.",
    ("V1PersistentVolumeClaimSpec", "resources"): "resources represents the minimum resources "
        "the volume should have.",
    ("V1Scale", "spec"): "spec defines the behavior of the scale.",
    ("V1Scale", "status"): "status is the current status of the scale.",
    ("V1Namespace", "spec"): "Spec defines the behavior of the Namespace.",
    ("V1SelfSubjectAccessReview", "spec"): "Spec holds information about the request being "
        "evaluated.  user and groups must be empty",
    ("V1SelfSubjectAccessReview", "status"): "Status is filled in by the server and indicates "
        "whether the request is allowed or not",
    ("V1SelfSubjectAccessReviewSpec", "resourceAttributes"): "ResourceAuthorizationAttributes "
        "describes information for a resource access request",
    ("V1SelfSubjectAccessReviewSpec", "nonResourceAttributes"): "NonResourceAttributes "
        "describes information for a non-resource access request",
    ("V1SelfSubjectRulesReview", "spec"): "Spec holds information about the request being "
        "evaluated.",
    ("V1SelfSubjectRulesReview", "status"): "Status is filled in by the server and indicates "
        "the set of actions a user can perform.",
    ("V1Namespace", "status"): "Status describes the current status of a Namespace.",
}
METADATA_DESCRIPTION = ("Standard object's metadata. More info: https://git.k8s.io/community/"
                        "contributors/devel/sig-architecture/api-conventions.md#metadata")

SCALARS = {"str": "STRING", "int": "INTEGER", "float": "NUMBER", "bool": "BOOLEAN",
           "datetime": "TIME", "date": "TIME", "object": "RAW"}


def openapi_name(cls):
    """The OpenAPI schema name of a client class or a hand type."""
    if cls in HAND_TYPES:
        return HAND_TYPES[cls][0]
    for package, classes in PACKAGES.items():
        if cls in classes:
            return package + re.sub(r"^(V1|EventsV1)", "", cls)
    return "io.k8s.api.core.v1." + RENAMED.get(cls, re.sub(r"^(V1|CoreV1)", "", cls))


def description(cls, attr):
    """The description paragraph of a client property's docstring."""
    doc = getattr(getattr(models, cls), attr).__doc__ or ""
    lines = [line.strip() for line in doc.split("\n")]
    text = []
    for line in lines[1:]:
        if line.startswith(":return:"):
            break
        text.append(line.replace("# noqa: E501", "").strip())
    return " ".join(t for t in text if t).strip()


def fields_of(cls):
    """[(json, type, description)] of a class, with ADDED and REMOVED applied."""
    if cls in HAND_TYPES:
        return list(HAND_TYPES[cls][2])
    klass = getattr(models, cls)
    out = []
    removed = REMOVED.get(cls, [])
    added = {name: (name, t, d) for name, t, d in ADDED.get(cls, [])}
    for attr, spec in klass.openapi_types.items():
        name = klass.attribute_map[attr]
        if name in removed:
            continue
        if name in added:
            out.append(added.pop(name))
        else:
            text = description(cls, attr) or OBJECT_FIELD_DESCRIPTIONS.get((cls, name), "")
            if not text and name == "metadata":
                text = METADATA_DESCRIPTION
            out.append((name, spec, text))
    out.extend(added.values())
    return out


def parse(spec):
    """(kind, element kind, class) of a type spec such as 'list[V1Container]'."""
    m = re.fullmatch(r"list\[(.+)\]", spec)
    if m:
        inner = m.group(1)
        if inner in SCALARS:
            return "ARRAY", SCALARS[inner], None
        if inner.startswith(("list[", "dict(")):
            return "ARRAY", "RAW", None
        return "ARRAY", "OBJECT", inner
    m = re.fullmatch(r"dict\(str, (.+)\)", spec)
    if m:
        inner = m.group(1)
        if inner in SCALARS:
            return "MAP", SCALARS[inner], None
        if inner.startswith(("list[", "dict(")):
            return "MAP", "RAW", None
        return "MAP", "OBJECT", inner
    if spec in SCALARS:
        return SCALARS[spec], "NONE", None
    return "OBJECT", "NONE", spec


def c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    order, seen = [], set()
    queue = list(ROOTS)
    while queue:
        cls = queue.pop(0)
        if cls in seen:
            continue
        seen.add(cls)
        order.append(cls)
        for _, spec, _ in fields_of(cls):
            target = parse(spec)[2]
            if target is not None and target not in seen:
                queue.append(target)
    order.sort(key=openapi_name)
    index = {cls: i for i, cls in enumerate(order)}
    out = sys.stdout
    out.write("/*\n * api_schema_table.c — GENERATED by tools/schema/gen_schema.py from "
              "python3-kubernetes;\n * do not edit. The fields of every type the API "
              "checks requests against\n * (see api_schema.h).\n */\n")
    out.write('#include "api_schema.h"\n\n')
    out.write("static const struct api_schema_field api_schema_fields[] = {\n")
    first = []
    count = 0
    for cls in order:
        first.append(count)
        for name, spec, desc in sorted(fields_of(cls)):
            kind, elem, target = parse(spec)
            out.write("\t{ %s, API_SCHEMA_%s, API_SCHEMA_%s, %d,\n\t  %s },\n" % (
                c_string(name), kind, elem, index[target] if target else -1, c_string(desc)))
            count += 1
    out.write("};\n\n")
    out.write("const struct api_schema_type api_schema_types[] = {\n")
    for i, cls in enumerate(order):
        out.write("\t{ %s, %s,\n\t  api_schema_fields + %d, %d },\n" % (
            c_string(openapi_name(cls)),
            c_string(HAND_TYPES[cls][1] if cls in HAND_TYPES else KIND_DESCRIPTIONS.get(cls, "")),
            first[i], len(fields_of(cls))))
    out.write("};\n\nconst unsigned api_schema_type_count = %d;\n" % len(order))


if __name__ == "__main__":
    main()
