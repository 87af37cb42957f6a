#!/usr/bin/env python3
"""Write a mission file for a course (map positions -> latitude/longitude at the course datum).

    source scripts/env.sh
    scripts/make_mission_from_course.py urc_demo --approximate-error 4 > config/missions/my.yaml

See rover_stack/sim/course_mission.py for the legs produced and docs/missions.md for the format.
"""
import argparse
import sys

from rover_stack.sim.course import CourseError, UnknownCourseError, load_course
from rover_stack.sim.course_mission import mission_yaml_for_course


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('course', help='course name (sim/courses/<name>.yaml) or path to a course file')
    parser.add_argument('--approximate-error', type=float, default=0.0,
                        help='m; move post, gate and object targets this far in a random direction')
    parser.add_argument('--seed', type=int, default=0, help='seed of those random directions')
    args = parser.parse_args()
    try:
        course = load_course(args.course)
        sys.stdout.write(mission_yaml_for_course(course, args.approximate_error, args.seed))
    except (CourseError, UnknownCourseError, ValueError) as error:
        sys.stderr.write(f'make_mission_from_course: {error}\n')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
