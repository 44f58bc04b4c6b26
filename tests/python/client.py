"""A client that is not ours: grpcio, with stubs generated from proto/ at run time.

As the procuratorate it submits a referral to 民政 over mutual TLS; as 民政 it
subscribes to its inbox and reads the referral back; without a certificate it is
refused; grpcio-reflection (a v1alpha reflection client) lists the services. Prints one
JSON line with what it saw; exits non-zero on any surprise.

Usage: client.py ENDPOINT PKI_DIR PROTO_DIR
"""

import importlib.resources
import json
import sys
import tempfile
import uuid

import grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
from grpc_tools import protoc


def generate(proto_dir, out_dir):
    files = ["xianjie/v1/vocabulary.proto", "xianjie/v1/deadline.proto", "xianjie/v1/referral.proto",
             "xianjie/v1/inbox.proto", "xianjie/v1/directory.proto", "xianjie/v1/material.proto",
             "xianjie/v1/records.proto"]
    include = importlib.resources.files("grpc_tools") / "_proto"
    args = ["protoc", f"-I{proto_dir}", f"-I{include}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"]
    if protoc.main(args + files) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out_dir)


def channel(endpoint, pki, who):
    read = lambda name: open(f"{pki}/{name}", "rb").read()
    if who is None:
        creds = grpc.ssl_channel_credentials(root_certificates=read("ca.crt"))
    else:
        creds = grpc.ssl_channel_credentials(read("ca.crt"), read(f"{who}.key"), read(f"{who}.crt"))
    return grpc.secure_channel(endpoint, creds, options=[("grpc.ssl_target_name_override", "localhost")])


def main():
    endpoint, pki, proto_dir = sys.argv[1:4]
    generate(proto_dir, tempfile.mkdtemp())
    from xianjie.v1 import directory_pb2, directory_pb2_grpc, inbox_pb2, inbox_pb2_grpc
    from xianjie.v1 import referral_pb2, referral_pb2_grpc, vocabulary_pb2

    jcy = referral_pb2_grpc.ReferralServiceStub(channel(endpoint, pki, "jcy"))
    draft = referral_pb2.ReferralDraft(
        kind=vocabulary_pb2.REFERRAL_KIND_SOCIAL_ASSISTANCE,
        person=referral_pb2.Person(name="赵某", id_number="11010519491231002X"),
        situations=[vocabulary_pb2.SITUATION_SERIOUS_INJURY],
        needs=[vocabulary_pb2.NEED_SUBSISTENCE_ALLOWANCE],
        narrative="由非本项目客户端提交",
        investigation_ended_on="2026-09-08",
    )
    sent = jcy.Submit(referral_pb2.SubmitRequest(request_id=str(uuid.uuid4()), draft=draft, recipients=["mz"]))
    referral_id = sent.referrals[0].id

    mz = inbox_pb2_grpc.InboxServiceStub(channel(endpoint, pki, "mz"))
    stream = mz.Subscribe(inbox_pb2.SubscribeRequest(after_seq=0))
    event = next(stream)
    stream.cancel()
    if event.referral_id != referral_id or event.kind != inbox_pb2.INBOX_EVENT_KIND_NEW_REFERRAL:
        sys.exit(f"unexpected event {event}")

    anonymous = directory_pb2_grpc.DirectoryServiceStub(channel(endpoint, pki, None))
    try:
        anonymous.WhoAmI(directory_pb2.WhoAmIRequest())
        sys.exit("a call without a certificate was answered")
    except grpc.RpcError as e:
        refused = e.code().name

    services = sorted(ProtoReflectionDescriptorDatabase(channel(endpoint, pki, "mz")).get_services())

    print(json.dumps({"referral_id": referral_id, "seq": event.seq, "sender": event.actor,
                      "without_certificate": refused, "reflected_services": services}))


if __name__ == "__main__":
    main()
