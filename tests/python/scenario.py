#!/usr/bin/env python3
"""Second-language client check: drives a running custgrade server from Python.

Usage: python tests/python/scenario.py HOST:PORT

Generates Python stubs from proto/ into a temporary directory with grpc_tools.protoc, then runs
one scenario against a freshly started server (empty database, no auth). Prints one line per
step; exits 0 when every step passed, 1 with a FAIL line on the first failure, 2 on bad usage.
Needs the packages in tests/python/requirements.txt.
"""

import importlib
import os
from decimal import Decimal
import sys
import tempfile
import uuid
from pathlib import Path

import grpc
import grpc_tools
from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"
DEADLINE = 10.0  # seconds, for every call
CUSTOMER_SERVICE = "custgrade.v1.CustomerService"
MISSING_CUSTOMER = "customers/00000000-0000-7000-8000-000000000000"


class Failure(Exception):
    """A step did not behave as the contract says."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def step(message):
    print(f"ok   {message}", flush=True)


def generate_stubs(out_dir):
    """Compiles the contract (and the vendored google/type, google/api and google/longrunning
    protos it imports)."""
    sources = sorted(
        str(p.relative_to(PROTO_ROOT))
        for sub in ("custgrade/v1", "google/type", "google/api", "google/longrunning")
        for p in (PROTO_ROOT / sub).glob("*.proto")
    )
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise Failure(f"grpc_tools.protoc failed on {PROTO_ROOT} (see its messages above)")
    # The generated modules shadow googleapis-common-protos' copies of the same files.
    sys.path.insert(0, str(out_dir))
    importlib.invalidate_caches()
    step(f"generated Python stubs for {len(sources)} proto files")


def expect_error(code, call, *args, **kwargs):
    """Runs a call that must fail with `code`; returns the grpc.RpcError."""
    try:
        call(*args, **kwargs)
    except grpc.RpcError as err:
        check(err.code() == code, f"expected {code.name}, got {err.code().name}: {err.details()}")
        return err
    raise Failure(f"expected {code.name}, but the call succeeded")


def run(target):
    # Imported here, once generate_stubs() has put the generated modules on sys.path.
    from google.rpc import error_details_pb2
    from google.type import date_pb2, money_pb2
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_status import rpc_status

    from google.longrunning import operations_pb2, operations_pb2_grpc

    from custgrade.v1 import (
        assessment_pb2,
        assessment_pb2_grpc,
        customer_pb2,
        customer_pb2_grpc,
        figures_pb2,
        figures_pb2_grpc,
        portfolio_pb2,
        portfolio_pb2_grpc,
    )

    def date(y, m, d):
        return date_pb2.Date(year=y, month=m, day=d)

    def ymd(dt):
        return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"

    with grpc.insecure_channel(target) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=DEADLINE)
        except grpc.FutureTimeoutError:
            raise Failure(f"could not connect to {target} within {DEADLINE:.0f}s") from None
        step(f"connected to {target}")

        health = health_pb2_grpc.HealthStub(channel)
        for service in ("", CUSTOMER_SERVICE):
            resp = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=DEADLINE)
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
            check(resp.status == health_pb2.HealthCheckResponse.SERVING,
                  f"health of {service!r} is {status}, want SERVING")
            step(f"health {service!r}: {status}")

        customers = customer_pb2_grpc.CustomerServiceStub(channel)
        figures = figures_pb2_grpc.FiguresServiceStub(channel)

        external_id = f"py-scenario-{uuid.uuid4()}"
        customer = customers.CreateCustomer(
            customer_pb2.CreateCustomerRequest(
                customer=customer_pb2.Customer(
                    external_id=external_id,
                    display_name="Python Scenario Trading Co.",
                    kind=customer_pb2.CUSTOMER_KIND_EXISTING,
                    labels={"source": "python-scenario", "tier": "gold"},
                ),
                request_id=str(uuid.uuid4()),
            ),
            timeout=DEADLINE,
        )
        check(customer.name.startswith("customers/"), f"customer name {customer.name!r}")
        check(customer.external_id == external_id, f"external_id came back {customer.external_id!r}")
        check(customer.kind == customer_pb2.CUSTOMER_KIND_EXISTING, "kind did not round-trip")
        check(dict(customer.labels) == {"source": "python-scenario", "tier": "gold"},
              f"labels came back {dict(customer.labels)!r}")
        step(f"CreateCustomer -> {customer.name}")

        snapshots = {
            "2026-06-30": dict(as_of_date=date(2026, 6, 30),
                               annual_revenue=money_pb2.Money(currency_code="CNY", units=12_000_000),
                               on_time_payment_rate_percent=92.5,
                               credit_rating=figures_pb2.CREDIT_RATING_A,
                               longest_overdue_days=20),
            "2026-09-30": dict(as_of_date=date(2026, 9, 30),
                               annual_revenue=money_pb2.Money(currency_code="CNY", units=13_500_000,
                                                              nanos=500_000_000),
                               on_time_payment_rate_percent=97.0,
                               credit_rating=figures_pb2.CREDIT_RATING_AA,
                               longest_overdue_days=5),
        }
        for day, fields in snapshots.items():
            recorded = figures.RecordFigures(
                figures_pb2.RecordFiguresRequest(parent=customer.name,
                                                 figures=figures_pb2.Figures(source="python-scenario", **fields),
                                                 request_id=str(uuid.uuid4())),
                timeout=DEADLINE,
            )
            check(ymd(recorded.as_of_date) == day, f"recorded as_of_date {ymd(recorded.as_of_date)}, want {day}")
            check(recorded.revision == 1, f"revision {recorded.revision}, want 1")
            check(recorded.annual_revenue == fields["annual_revenue"],
                  f"annual_revenue came back {recorded.annual_revenue}")
            check(recorded.on_time_payment_rate_percent == fields["on_time_payment_rate_percent"],
                  "on_time_payment_rate_percent did not round-trip")
            check(recorded.credit_rating == fields["credit_rating"], "credit_rating did not round-trip")
            check(recorded.longest_overdue_days == fields["longest_overdue_days"],
                  "longest_overdue_days did not round-trip")
            step(f"RecordFigures {day} -> {recorded.name}")

        latest = figures.GetFigures(figures_pb2.GetFiguresRequest(parent=customer.name), timeout=DEADLINE)
        check(ymd(latest.as_of_date) == "2026-09-30",
              f"GetFigures without a date returned {ymd(latest.as_of_date)}, want 2026-09-30")
        step("GetFigures (newest) -> 2026-09-30")

        dated = figures.GetFigures(
            figures_pb2.GetFiguresRequest(parent=customer.name, as_of_date=date(2026, 7, 15)),
            timeout=DEADLINE,
        )
        check(ymd(dated.as_of_date) == "2026-06-30",
              f"GetFigures as of 2026-07-15 returned {ymd(dated.as_of_date)}, want 2026-06-30")
        check(dated.on_time_payment_rate_percent == 92.5, "GetFigures as of 2026-07-15 returned other values")
        step("GetFigures as of 2026-07-15 -> 2026-06-30")

        listed = figures.ListFigures(figures_pb2.ListFiguresRequest(parent=customer.name), timeout=DEADLINE)
        days = [ymd(f.as_of_date) for f in listed.figures]
        check(days == ["2026-09-30", "2026-06-30"], f"ListFigures returned {days}, want newest first")
        check(listed.next_page_token == "", "ListFigures has a next page for two snapshots")
        step(f"ListFigures -> {days}")

        err = expect_error(
            grpc.StatusCode.INVALID_ARGUMENT,
            figures.RecordFigures,
            figures_pb2.RecordFiguresRequest(
                parent=customer.name,
                figures=figures_pb2.Figures(as_of_date=date(2026, 8, 31), on_time_payment_rate_percent=150),
            ),
            timeout=DEADLINE,
        )
        try:
            status = rpc_status.from_call(err)  # decodes the grpc-status-details-bin trailer
        except ValueError as mismatch:  # its code or message differs from the call's own
            raise Failure(f"grpc-status-details-bin does not match the call: {mismatch}") from None
        check(status is not None, "INVALID_ARGUMENT came without a grpc-status-details-bin trailer")
        violations = []
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                violations += [v.field for v in bad_request.field_violations]
        check("figures.on_time_payment_rate_percent" in violations,
              f"BadRequest field violations are {violations}, want figures.on_time_payment_rate_percent")
        step(f"RecordFigures with 150 % -> INVALID_ARGUMENT, BadRequest fields {violations}")

        assessments = assessment_pb2_grpc.AssessmentServiceStub(channel)
        graded = assessments.AssessCustomer(
            assessment_pb2.AssessCustomerRequest(parent=customer.name, locale="zh-CN",
                                                 request_id=str(uuid.uuid4())),
            timeout=DEADLINE,
        )
        check(graded.model_version == "models/existing-customers/versions/1",
              f"graded with {graded.model_version!r}, want the existing-customers champion")
        check(graded.figures == f"{customer.name}/figures/2026-09-30@1", f"graded {graded.figures!r}")
        contributions = sum(Decimal(line.contribution) for line in graded.criteria)
        check(contributions == Decimal(graded.total_score),
              f"contributions add up to {contributions}, total is {graded.total_score}")
        check(graded.grade in ("A", "B", "C", "D"), f"grade {graded.grade!r}")
        check(graded.locale == "zh-CN" and all("分" in line.sentence for line in graded.criteria),
              "sentences are not in Chinese")
        step(f"AssessCustomer -> {graded.grade}, {graded.total_score} = sum of contributions")

        report = assessments.ExplainAssessment(
            assessment_pb2.ExplainAssessmentRequest(name=graded.name), timeout=DEADLINE)
        check(f"Total score: {graded.total_score} of 100" in report.text, "the report lacks the score")
        current = assessments.GetCustomerGrade(
            assessment_pb2.GetCustomerGradeRequest(customer=customer.name), timeout=DEADLINE)
        check(current.assessment == graded.name, f"current grade from {current.assessment!r}")
        step("ExplainAssessment and GetCustomerGrade agree")

        expect_error(grpc.StatusCode.NOT_FOUND, customers.GetCustomer,
                     customer_pb2.GetCustomerRequest(name=MISSING_CUSTOMER), timeout=DEADLINE)
        step(f"GetCustomer {MISSING_CUSTOMER} -> NOT_FOUND")

        # A re-grade is a google.longrunning operation: started, waited for with the standard
        # Operations service, its metadata and response unpacked from Any.
        portfolio = portfolio_pb2_grpc.PortfolioServiceStub(channel)
        operations = operations_pb2_grpc.OperationsStub(channel)
        started = portfolio.RegradePortfolio(
            portfolio_pb2.RegradePortfolioRequest(request_id=str(uuid.uuid4())),
            timeout=DEADLINE,
        )
        check(started.name.startswith("operations/"), f"operation name {started.name!r}")
        done = operations.WaitOperation(
            operations_pb2.WaitOperationRequest(name=started.name), timeout=DEADLINE
        )
        check(done.done, f"the re-grade of one customer is done: {done}")
        progress = portfolio_pb2.RegradePortfolioMetadata()
        check(done.metadata.Unpack(progress), f"metadata type {done.metadata.type_url}")
        check(progress.state == portfolio_pb2.REGRADE_STATE_SUCCEEDED, f"state {progress.state}")
        result = portfolio_pb2.RegradePortfolioResponse()
        check(done.response.Unpack(result), f"response type {done.response.type_url}")
        check(result.assessed_customer_count == 1, f"assessed {result.assessed_customer_count}")
        regraded = assessments.GetCustomerGrade(
            assessment_pb2.GetCustomerGradeRequest(customer=customer.name), timeout=DEADLINE)
        check(regraded.assessment != graded.name, "the re-grade made a new current grade")
        step(f"RegradePortfolio {started.name} -> done, {result.assessed_customer_count} assessed")


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} HOST:PORT", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="custgrade-pystubs-") as out_dir:
            generate_stubs(out_dir)
            run(argv[1])
    except Failure as failure:
        print(f"FAIL {failure}", file=sys.stderr)
        return 1
    except grpc.RpcError as err:
        print(f"FAIL unexpected RPC error {err.code().name}: {err.details()}", file=sys.stderr)
        return 1
    print("PASS python scenario", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
