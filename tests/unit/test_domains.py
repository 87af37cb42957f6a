"""claim_domain_id: runs sharing a machine get DDS domain ids nobody else holds."""
import os

from rover_stack.common.domains import DOMAIN_RANGE, claim_domain_id


def test_claimed_ids_are_distinct_held_and_free_again_when_released():
    first, first_lock = claim_domain_id()
    second, second_lock = claim_domain_id()
    try:
        assert first in DOMAIN_RANGE and second in DOMAIN_RANGE and first != second
        assert str(first) != os.environ.get('ROS_DOMAIN_ID') != str(second)   # this pytest run holds its own
        first_lock.close()
        again, again_lock = claim_domain_id()
        again_lock.close()
        assert again == first          # same search order: the released id is the first free one again
    finally:
        first_lock.close()
        second_lock.close()
