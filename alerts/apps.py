from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"

    def ready(self) -> None:
        # The engine answers the domain's events (patients/events.py): the one way a domain
        # write sets off engine work, in its own transaction.
        from alerts import receivers
        from patients import events

        events.child_changed.connect(receivers.on_child_changed, dispatch_uid="alerts.child_changed")
        events.children_reassess.connect(
            receivers.on_children_reassess, dispatch_uid="alerts.children_reassess"
        )
        events.clinic_rules_changed.connect(
            receivers.on_clinic_rules_changed, dispatch_uid="alerts.clinic_rules_changed"
        )
        events.proof_code_issued.connect(
            receivers.on_proof_code_issued, dispatch_uid="alerts.proof_code_issued"
        )
