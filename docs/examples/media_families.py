"""The image-, keyframe- and reference-to-video operators as their pages show them, one DAG.

``tests/docs/test_family_examples.py`` puts real pictures and a voice file at the ``s3://`` keys named here,
runs the DAG against the emulator and moto S3, and checks each video's shape.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_wan.operators.wan import (
    WanImageToVideoOperator,
    WanKeyframesToVideoOperator,
    WanReferenceToVideoOperator,
)

with DAG("docs_wan_media_families", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    # [START howto_operator_wan_image_to_video]
    product_clip = WanImageToVideoOperator(
        task_id="animate_product_photo",
        model="wan2.6-i2v-flash",
        img_url="s3://my-media/products/teapot.png",  # checked in S3, sent as a presigned URL
        prompt="The teapot turns slowly on a marble table, steam curling from the spout",
        resolution="720P",
        duration=5,
        audio=False,  # -flash only: a silent video, billed at the silent price
    )
    # [END howto_operator_wan_image_to_video]

    # [START howto_operator_wan_image_to_video_media]
    lid_opens = WanImageToVideoOperator(
        task_id="first_and_last_frame",
        model="wan2.7-i2v",
        media=[
            {"type": "first_frame", "url": "s3://my-media/products/teapot.png"},
            {"type": "last_frame", "url": "s3://my-media/products/teapot-open.png"},
        ],
        prompt="The lid lifts and the teapot pours a cup of green tea",
        resolution="720P",
        duration=5,
    )
    # [END howto_operator_wan_image_to_video_media]

    # [START howto_operator_wan_keyframes_to_video]
    shot = WanKeyframesToVideoOperator(
        task_id="join_keyframes",
        model="wan2.2-kf2v-flash",  # Beijing; wan2.1-kf2v-plus in Singapore
        first_frame_url="s3://my-media/storyboard/shot-12-start.png",
        last_frame_url="s3://my-media/storyboard/shot-12-end.png",
        prompt="The camera cranes up as the barn door swings open",
        resolution="720P",
    )
    # [END howto_operator_wan_keyframes_to_video]

    # [START howto_operator_wan_reference_to_video]
    episode = WanReferenceToVideoOperator(
        task_id="mascot_episode",
        model="wan2.6-r2v-flash",
        reference_urls=["s3://my-media/characters/mascot.png"],
        prompt="character1 skateboards through a night market, waving at the camera",
        size="1280*720",
        duration=5,
    )
    # [END howto_operator_wan_reference_to_video]

    # [START howto_operator_wan_reference_to_video_media]
    greeting = WanReferenceToVideoOperator(
        task_id="mascot_greeting",
        model="wan2.7-r2v",
        media=[
            {
                "type": "reference_image",
                "url": "s3://my-media/characters/mascot.png",
                "reference_voice": "s3://my-media/characters/mascot-voice.wav",
            }
        ],
        prompt="Image 1 waves from a rooftop at sunset and says hello",
        resolution="720P",
        ratio="16:9",
        duration=5,
    )
    # [END howto_operator_wan_reference_to_video_media]
